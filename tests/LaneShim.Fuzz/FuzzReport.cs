// FuzzReport.cs - what a fuzzing run did: inputs, how far they got, which statuses they ended in, and any crash.
using System.Text.Json;

namespace LaneShim.Fuzz;

/// <summary>Counts from one <see cref="ReplyFuzzer"/> run.</summary>
public sealed class FuzzReport
{
    /// <summary>The run's seed.</summary>
    public int Seed { get; init; }

    /// <summary>Inputs fed.</summary>
    public long Inputs { get; init; }

    /// <summary>Inputs that decoded to a LaneGrant.</summary>
    public long Decoded { get; set; }

    /// <summary>Decoded grants the validator refused.</summary>
    public long Rejected { get; set; }

    /// <summary>Grants applied to a real socket.</summary>
    public long Applied { get; set; }

    /// <summary>Inputs that ended in a crash (any exception the agent would not handle as a status).</summary>
    public long Crashes { get; set; }

    /// <summary>Decoding failures by gRPC status.</summary>
    public Dictionary<string, long> Statuses { get; } = new(StringComparer.Ordinal);

    /// <summary>The first crashes, with their reproducible inputs.</summary>
    public List<string> CrashDetails { get; } = [];

    /// <summary>Wall time of the run.</summary>
    public double Seconds { get; set; }

    /// <summary>The report as one JSON object.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        seed = Seed, inputs = Inputs, decoded = Decoded, rejected = Rejected, applied = Applied, crashes = Crashes,
        statuses = Statuses, crash_details = CrashDetails, seconds = Math.Round(Seconds, 3),
        inputs_per_s = Seconds > 0 ? Math.Round(Inputs / Seconds) : 0,
    });

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Inputs} inputs in {Seconds:0.0} s: {Decoded} decoded, {Rejected} refused by the validator, {Applied} applied to a socket, " +
        $"{Crashes} crashes; statuses: {string.Join(", ", Statuses.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"))}";
}
