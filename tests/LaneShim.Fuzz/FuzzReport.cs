// FuzzReport.cs - what a fuzzing run did: inputs, how far they got, which statuses they ended in, and any crash or hang.
using System.Text.Json;

namespace LaneShim.Fuzz;

/// <summary>Counts from one <see cref="ReplyFuzzer"/> run, or the sum of runs in several modes (<see cref="Parts"/>).</summary>
public sealed class FuzzReport
{
    /// <summary>The run's seed.</summary>
    public int Seed { get; init; }

    /// <summary>The mode(s) run: "wire", "httpclient", or both joined by '+'.</summary>
    public string Mode { get; init; } = "wire";

    /// <summary>Inputs fed.</summary>
    public long Inputs { get; set; }

    /// <summary>Inputs that decoded to a LaneGrant (in wire mode, a second call on the connection counts too).</summary>
    public long Decoded { get; set; }

    /// <summary>Decoded grants the validator refused.</summary>
    public long Rejected { get; set; }

    /// <summary>Grants applied to a real socket.</summary>
    public long Applied { get; set; }

    /// <summary>Inputs that ended in a crash (any exception the agent would not handle as a status) or a hang.</summary>
    public long Crashes { get; set; }

    /// <summary>Of <see cref="Crashes"/>: calls that overran their deadline by more than 50 ms, or waited for it although the broker had closed.</summary>
    public long Hangs { get; set; }

    /// <summary>Wire mode: calls the HTTP/2 connection failed (Http2Exception), before gRPC interpretation.</summary>
    public long Http2Failures { get; set; }

    /// <summary>Wire mode: inputs whose broker end stayed open, so the call could run into its short deadline.</summary>
    public long DeadlineInputs { get; set; }

    /// <summary>Wire mode: second calls made on a refreshed connection.</summary>
    public long SecondCalls { get; set; }

    /// <summary>Wire mode: inputs by mutation (none, frames, bytes, frames_bytes).</summary>
    public Dictionary<string, long> Mutations { get; } = new(StringComparer.Ordinal);

    /// <summary>Decoding failures by gRPC status (HTTP/2 failures by the status the client maps them to).</summary>
    public Dictionary<string, long> Statuses { get; } = new(StringComparer.Ordinal);

    /// <summary>The first crashes, with their reproducible inputs.</summary>
    public List<string> CrashDetails { get; } = [];

    /// <summary>Wall time of the run.</summary>
    public double Seconds { get; set; }

    /// <summary>The per-mode reports this one sums; empty for a single-mode run.</summary>
    public List<FuzzReport> Parts { get; } = [];

    /// <summary>The sum of <paramref name="parts"/>, which keeps them for the per-mode counts.</summary>
    public static FuzzReport Combine(IReadOnlyList<FuzzReport> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        var total = new FuzzReport { Seed = parts[0].Seed, Mode = string.Join("+", parts.Select(p => p.Mode)) };
        foreach (FuzzReport part in parts)
        {
            total.Parts.Add(part);
            total.Inputs += part.Inputs;
            total.Decoded += part.Decoded;
            total.Rejected += part.Rejected;
            total.Applied += part.Applied;
            total.Crashes += part.Crashes;
            total.Hangs += part.Hangs;
            total.Http2Failures += part.Http2Failures;
            total.DeadlineInputs += part.DeadlineInputs;
            total.SecondCalls += part.SecondCalls;
            total.Seconds += part.Seconds;
            Add(total.Statuses, part.Statuses);
            Add(total.Mutations, part.Mutations);
            total.CrashDetails.AddRange(part.CrashDetails);
        }

        return total;
    }

    /// <summary>The report as one JSON object: the totals (the fields the benchmark reads), and per mode under "modes".</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        seed = Seed, mode = Mode, inputs = Inputs, decoded = Decoded, rejected = Rejected, applied = Applied, crashes = Crashes,
        hangs = Hangs, statuses = Statuses, crash_details = CrashDetails, seconds = Math.Round(Seconds, 3), inputs_per_s = InputsPerSecond,
        modes = (Parts.Count == 0 ? [this] : Parts).ToDictionary(p => p.Mode, p => new
        {
            inputs = p.Inputs, decoded = p.Decoded, rejected = p.Rejected, applied = p.Applied, crashes = p.Crashes, hangs = p.Hangs,
            http2_failures = p.Http2Failures, deadline_inputs = p.DeadlineInputs, second_calls = p.SecondCalls, mutations = p.Mutations,
            seconds = Math.Round(p.Seconds, 3), inputs_per_s = p.InputsPerSecond,
        }),
    });

    private double InputsPerSecond => Seconds > 0 ? Math.Round(Inputs / Seconds) : 0;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Mode}: {Inputs} inputs in {Seconds:0.0} s ({InputsPerSecond}/s): {Decoded} decoded ({(Inputs > 0 ? 100.0 * Decoded / Inputs : 0):0.0}%), " +
        $"{Rejected} refused by the validator, {Applied} applied to a socket, {Crashes} crashes ({Hangs} hangs)" +
        (Mode.Contains("wire", StringComparison.Ordinal)
            ? $"; {Http2Failures} failed in HTTP/2, {DeadlineInputs} left open for the deadline, {SecondCalls} second calls; mutations: {Join(Mutations)}"
            : "") +
        $"; statuses: {Join(Statuses)}";

    private static string Join(Dictionary<string, long> counts) =>
        string.Join(", ", counts.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"));

    private static void Add(Dictionary<string, long> total, Dictionary<string, long> part)
    {
        foreach ((string key, long count) in part)
        {
            total[key] = total.GetValueOrDefault(key) + count;
        }
    }
}
