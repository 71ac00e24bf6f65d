// AgentFootprintBench.cs - agent_rss_added_mb and first_lane_ms: what loading the NativeAOT agent costs a process, in memory and on its first lane.
using System.Globalization;
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Bench;

/// <summary>
/// A fresh process under the shim makes exactly one connect and then reads its VmRSS: to an eligible destination
/// (agent loaded, .NET runtime started, grant from a real broker) or to an excluded one (agent never loaded). The
/// eligible connect's duration is <c>first_lane_ms</c>. Both kinds alternate.
/// </summary>
internal sealed class AgentFootprintBench : BenchSuite
{
    public override string Key => "agent";

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) =>
    [
        new("agent_rss_added_mb", null, "MB") { Target = 12 },
        new("first_lane_ms", null, "ms") { Target = 15 },
    ];

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        context.RequireNative();
        using var net = new BenchNetns(context);
        int port = 20000 + Environment.ProcessId % 20000;
        using LoggedDaemon server = LoggedDaemon.Start(BenchProcess.InNetns(net.Server, null, context.BenchBinary, "serve", $"{port}"),
            Path.Combine(context.WorkDirectory, "serve-agent.log"), "ready", BenchProcess.DidNotStart("laneshim-bench serve"), context.Cancel);
        using BenchBroker broker = BenchBroker.Start(context, "agent", BenchRequests.Policy("1h"));
        // The deadline only keeps a slow start under load from failing open (which would not be a lane); it is not timed separately.
        Dictionary<string, string> eligible = ShimEnvironment.With(context, broker.Socket, ("LANESHIM_DEADLINE_MS", "5000"));
        Dictionary<string, string> ineligible = ShimEnvironment.With(context, broker.Socket, ("LANESHIM_EXCLUDE", net.ServerAddress + "/32"));
        var rssLane = new List<double>();
        var rssNone = new List<double>();
        var firstLane = new List<double>();
        var firstPlain = new List<double>();
        int reps = context.Reps(20, 5);
        int grantsBefore = broker.Grants();
        for (int i = 0; i < reps; i++)
        {
            (double ns, double kb) lane = Once(context, net, eligible, port);
            (double ns, double kb) none = Once(context, net, ineligible, port);
            rssLane.Add(lane.kb);
            rssNone.Add(none.kb);
            firstLane.Add(lane.ns / 1e6);
            firstPlain.Add(none.ns / 1e6);
        }
        int grants = broker.Grants() - grantsBefore;
        bool real = grants >= reps;
        double lanedKb = BenchStats.Median(rssLane), noneKb = BenchStats.Median(rssNone);
        double first = BenchStats.Median(firstLane), plainFirst = BenchStats.Median(firstPlain);
        return
        [
            new("agent_rss_added_mb", (lanedKb - noneKb) / 1024, "MB")
            {
                Baseline = noneKb / 1024, Ratio = lanedKb / noneKb, Target = 12, Valid = real,
                Note = $"VmRSS after one connect: {lanedKb:0} KiB with a lane (agent loaded) vs {noneKb:0} KiB to an excluded destination; median of {reps} processes each"
                    + (real ? "" : $"; INVALID: only {grants} grants for {reps} lanes"),
            },
            new("first_lane_ms", first, "ms")
            {
                Baseline = plainFirst, Ratio = first / plainFirst, Target = 15, Valid = real,
                Note = $"a process's first eligible connect: agent dlopen, .NET runtime start, broker grant, connect; slowest {firstLane.Max():0.0} ms; baseline: the first connect to an excluded destination",
                Extra = new Dictionary<string, object> { ["p99_ms"] = BenchStats.Percentile(firstLane, 99) },
            },
        ];
    }

    private static (double Ns, double Kb) Once(BenchContext context, BenchNetns net, Dictionary<string, string> env, int port)
    {
        string[] f = BenchProcess.Run(BenchProcess.InNetns(net.Client, env, context.BenchBinary, "once", net.ServerAddress, $"{port}"),
            TimeSpan.FromSeconds(30), context.Cancel).Trim().Split(' ');
        return (double.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture));
    }
}
