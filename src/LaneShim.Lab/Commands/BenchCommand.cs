// BenchCommand.cs - `laneshim-lab bench`: the benchmark harness; writes out/bench/results.json and results.md and prints the table.
using System.CommandLine;
using System.Runtime.InteropServices;
using LaneShim.Lab.Bench;
using static LaneShim.Cli.Cli;

namespace LaneShim.Lab.Commands;

/// <summary>Builds the `bench` verb.</summary>
internal static class BenchCommand
{
    /// <summary>Every suite, in the order a run measures them (cheap and in-process first, the lab last).</summary>
    public static IReadOnlyList<BenchSuite> AllSuites() =>
    [
        new PathScaleBench(),
        new LeaseScaleBench(),
        new PreloadBench(),
        new ConnectBench(),
        new AgentFootprintBench(),
        new BrokerLoadBench(),
        new LaneSetupBench(),
        new MoverBench(),
        new ReplyFuzzBench(),
    ];

    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Fewer repetitions and one short mover: a run under 3 minutes (the full run takes up to 15)." };
        var output = new Option<string?>("--out") { Description = "Where results.json and results.md go (default: out/bench in the out/ tree laneshim-lab runs from)." };
        var only = new Option<string?>("--only") { Description = $"Only these suites, comma-separated ({string.Join(", ", AllSuites().Select(s => s.Key))})." };
        var cmd = new Command("bench",
            "Measure LaneShim's costs and throughput (connect overhead, broker grants/s, lane setup, memory, movers) and compare them " +
            "with their targets. Needs root for everything but the in-process suites. Exit status: 0 the harness ran (missed targets " +
            "are in the table), 2 bad flags, 130 interrupted.")
        {
            quick, output, only,
        };
        cmd.SetAction(parse =>
        {
            IReadOnlyList<BenchSuite> suites;
            try
            {
                suites = Choose(parse.GetValue(only));
            }
            catch (FormatException e)
            {
                return Fail($"laneshim-lab bench: {e.Message}");
            }
            string outTree = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, ".."));
            string outputDirectory = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(outTree, "bench"));
            string work = Directory.CreateTempSubdirectory("laneshim-bench-").FullName;
            using var interrupt = new CancellationTokenSource();
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; interrupt.Cancel(); });
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; interrupt.Cancel(); });
            var context = new BenchContext
            {
                Quick = parse.GetValue(quick),
                OutTree = outTree,
                SourceTree = Path.GetFullPath(Path.Combine(outTree, "..")),
                WorkDirectory = work,
                Log = Console.Error,
                Cancel = interrupt.Token,
            };
            string command = "laneshim-lab bench" + (context.Quick ? " --quick" : "") + (parse.GetValue(only) is string o ? $" --only {o}" : "");
            try
            {
                return new BenchRunner(context, suites, outputDirectory, command, Console.Out).Run();
            }
            finally
            {
                Directory.Delete(work, recursive: true);
            }
        });
        return cmd;
    }

    private static IReadOnlyList<BenchSuite> Choose(string? list)
    {
        IReadOnlyList<BenchSuite> all = AllSuites();
        if (string.IsNullOrWhiteSpace(list))
        {
            return all;
        }
        string[] keys = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] unknown = keys.Where(k => all.All(s => s.Key != k)).ToArray();
        if (unknown.Length > 0)
        {
            throw new FormatException($"--only: unknown suite(s) {string.Join(", ", unknown)} (known: {string.Join(", ", all.Select(s => s.Key))})");
        }
        return all.Where(s => keys.Contains(s.Key)).ToList();
    }
}
