// MoverBench.cs - lab_<mover>_<mode>_mbps and lab_<mover>_line_rate_ratio: the demo's legacy movers over its own lab, through the demo's own code.
using LaneShim.Lab.Commands;
using LaneShim.Lab.Demo;
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Bench;

/// <summary>
/// Runs <see cref="DemoRunner"/> (lab, broker, servers, each mover plain, under laneshim and hand-tuned) into a work
/// directory with shorter time limits, then reads its results.json. One run per mover and mode (a transfer is
/// already an average over seconds); --quick runs iperf3 only, briefly. The line-rate ratio is the laneshim run's
/// goodput over the lane path's rate.
/// </summary>
internal sealed class MoverBench : BenchSuite
{
    public override string Key => "movers";

    private static IReadOnlyList<Mover> Movers(BenchContext context) =>
        context.Quick ? DemoCommand.AllMovers().Where(m => m.Name == "iperf3").ToList() : DemoCommand.AllMovers();

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) =>
        Movers(context).SelectMany(m => DemoModeNames.All.Select(mode => new BenchResult($"lab_{Id(m.Name)}_{Id(mode.Name())}_mbps", null, "Mbit/s"))
            .Append(new BenchResult($"lab_{Id(m.Name)}_line_rate_ratio", null, "ratio"))).ToList();

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        context.RequireNative();
        IReadOnlyList<Mover> movers = Movers(context);
        string output = Path.Combine(context.WorkDirectory, "demo");
        var settings = new DemoSettings
        {
            Lab = new LabSettings { Name = $"bm{Environment.ProcessId % 100000}", Net = $"10.{200 + Environment.ProcessId % 50}" },
            PolicyFile = Path.Combine(context.SourceTree, "demo", "lanes.conf"),
            OutputDirectory = output,
            Movers = movers.Select(m => m.Name).ToList(),
            IperfDuration = TimeSpan.FromSeconds(context.Quick ? 3 : 8),
            PlainLimit = TimeSpan.FromSeconds(context.Quick ? 5 : 10),
            RunLimit = TimeSpan.FromSeconds(context.Quick ? 20 : 40),
        };
        if (!File.Exists(settings.PolicyFile))
        {
            throw new BenchException($"{settings.PolicyFile} is missing (the demo's policy, from the source tree)");
        }
        int status = new DemoRunner(settings, movers, context.Log, context.Cancel).Run();
        context.Cancel.ThrowIfCancellationRequested();
        string json = Path.Combine(output, "results.json");
        if (status != DemoRunner.ExitOk || !File.Exists(json))
        {
            throw new BenchException($"the demo's lab run failed (exit {status}; its messages are above)");
        }
        DemoResultsFile file = DemoResultsJson.Read(json);
        double lineRate = file.LineRateMbps;
        var runs = file.Runs.Select(r => (r.Mover, r.Mode, r.Mbps, r.Ok, Note: r.Note ?? "")).ToList();
        var results = new List<BenchResult>();
        foreach (Mover mover in movers)
        {
            double? plain = null;
            double? laned = null;
            foreach (DemoMode mode in DemoModeNames.All)
            {
                var run = runs.FirstOrDefault(r => r.Mover == mover.Name && r.Mode == mode.Name());
                string name = $"lab_{Id(mover.Name)}_{Id(mode.Name())}_mbps";
                if (run.Mover is null || !run.Ok)
                {
                    string why = run.Mover is not null ? $"failed: {run.Note}"
                        : mode == DemoMode.HandTuned && mover.NoHandTuning is string none ? $"no hand-tuned run: {none}"
                        : "the demo did not run it";
                    results.Add(BenchResult.Missing(name, "Mbit/s", why));
                    continue;
                }
                if (mode == DemoMode.Plain)
                {
                    plain = run.Mbps;
                }
                if (mode == DemoMode.Laneshim)
                {
                    laned = run.Mbps;
                }
                bool compared = mode != DemoMode.Plain && plain is > 0;
                results.Add(new BenchResult(name, run.Mbps, "Mbit/s")
                {
                    Baseline = compared ? plain : null,
                    Ratio = compared ? run.Mbps / plain : null,
                    Note = $"one run over the lab's lane path ({lineRate:0} Mbit/s){(run.Note.Length > 0 ? "; " + run.Note : "")}",
                });
            }
            results.Add(laned is double l && lineRate > 0
                ? new BenchResult($"lab_{Id(mover.Name)}_line_rate_ratio", l / lineRate, "ratio") { Baseline = lineRate, Ratio = l / lineRate, Note = "laneshim goodput / lane path rate" }
                : BenchResult.Missing($"lab_{Id(mover.Name)}_line_rate_ratio", "ratio", "no laneshim run to compare"));
        }
        return results;
    }

    /// <summary>A mover or mode name as a figure name part: iperf3-w64k → iperf3_w64k, hand-tuned → hand_tuned.</summary>
    private static string Id(string name) => name.Replace('-', '_');
}
