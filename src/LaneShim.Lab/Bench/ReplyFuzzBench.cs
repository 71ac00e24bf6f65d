// ReplyFuzzBench.cs - reply_fuzz_inputs and reply_fuzz_crashes: a million fuzzed broker replies through the agent's HTTP/2, HPACK and gRPC decoding.
using System.Globalization;
using System.Text.Json;

namespace LaneShim.Lab.Bench;

/// <summary>
/// Runs the reply fuzzer (tests/LaneShim.Fuzz, built by ./build.sh) in wire mode for 1,000,000 inputs (100,000 with
/// --quick) with the run's seed: a fake broker's byte stream on a fresh socketpair per input (SETTINGS, control frames,
/// HPACK header blocks in every representation, CONTINUATION, padding, DATA chunks, trailers, resets, GOAWAY; mutated at
/// the frame and byte level), read by the agent's own HTTP/2 client and HPACK decoder, interpreted as gRPC, then grant
/// validation and socket tuning. Any exception the agent would not turn into a status is a crash, and so is a call that
/// overruns its deadline (a hang).
/// </summary>
internal sealed class ReplyFuzzBench : BenchSuite
{
    private const long Inputs = 1_000_000;

    public override string Key => "fuzz";

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) =>
    [
        new("reply_fuzz_inputs", null, "inputs") { Target = Inputs, Kind = TargetKind.AtLeast },
        new("reply_fuzz_crashes", null, "crashes") { Target = 0 },
    ];

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        string fuzzer = Path.Combine(context.SourceTree, "tests", "LaneShim.Fuzz", "bin", "Release", "net10.0", "LaneShim.Fuzz.dll");
        if (!File.Exists(fuzzer))
        {
            throw new BenchException($"{fuzzer} is missing: run ./build.sh");
        }
        long inputs = context.Quick ? Inputs / 10 : Inputs;
        int seed = (int)(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 86_400); // one seed per day: reproducible, and new inputs each day
        string output = BenchProcess.Run(["dotnet", fuzzer, "--inputs", inputs.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture), "--mode", "wire", "--json"],
            TimeSpan.FromMinutes(10), context.Cancel);
        JsonElement report = JsonDocument.Parse(output).RootElement;
        long crashes = report.GetProperty("crashes").GetInt64();
        string details = string.Join(" | ", report.GetProperty("crash_details").EnumerateArray().Select(e => e.GetString()));
        JsonElement wire = report.GetProperty("modes").GetProperty("wire");
        var extra = new Dictionary<string, object>
        {
            ["seed"] = seed,
            ["mode"] = report.GetProperty("mode").GetString() ?? "wire",
            ["hangs"] = report.GetProperty("hangs").GetInt64(),
            ["http2_failures"] = wire.GetProperty("http2_failures").GetInt64(),
            ["second_calls"] = wire.GetProperty("second_calls").GetInt64(),
            ["deadline_inputs"] = wire.GetProperty("deadline_inputs").GetInt64(),
            ["decoded"] = report.GetProperty("decoded").GetInt64(),
            ["refused_by_validator"] = report.GetProperty("rejected").GetInt64(),
            ["applied_to_socket"] = report.GetProperty("applied").GetInt64(),
            ["inputs_per_s"] = report.GetProperty("inputs_per_s").GetDouble(),
        };
        string note = $"seed {seed}, wire mode: fake broker bytes through the agent's own HTTP/2 + HPACK client and gRPC decoding; "
            + $"{wire.GetProperty("http2_failures").GetInt64()} refused at the HTTP/2 level, {report.GetProperty("decoded").GetInt64()} decoded, "
            + $"{report.GetProperty("rejected").GetInt64()} refused by the validator, {report.GetProperty("applied").GetInt64()} applied to a real socket, "
            + $"in {report.GetProperty("seconds").GetDouble():0.0} s ({report.GetProperty("inputs_per_s").GetDouble():0}/s)";
        return
        [
            new("reply_fuzz_inputs", report.GetProperty("inputs").GetInt64(), "inputs") { Target = Inputs, Kind = TargetKind.AtLeast, Note = note, Extra = extra },
            new("reply_fuzz_crashes", crashes, "crashes") { Target = 0, Note = crashes == 0 ? "no crash and no hang" : details },
        ];
    }
}
