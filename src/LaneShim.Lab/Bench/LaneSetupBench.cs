// LaneSetupBench.cs - lane_setup_ms_p50/_p99: in the lab, from the connect() call until its SYN leaves the client, with every router's rules installed first.
using System.Globalization;
using System.Text.RegularExpressions;

using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Bench;

/// <summary>
/// Brings up its own lab (`laneshim-lab lab up`, short RTTs so iterations are quick), a broker with the lab's topology and
/// the Linux-router backend, and times in the client namespace, per connect, the interval from the connect() call to
/// the kernel timestamp of its SYN on the client's interface (laneshim-bench syn, AF_PACKET). The broker installs the
/// rules before it answers, so the interval covers the whole setup. Plain connects (no shim) alternate with lane
/// connects as the baseline. Once, with a flow held open, the harness checks the flow's element is in the lanes
/// set of every router on the path (nft list set).
/// </summary>
internal sealed partial class LaneSetupBench : BenchSuite
{
    public override string Key => "lanesetup";

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) =>
    [
        new("lane_setup_ms_p50", null, "ms") { Target = 10 },
        new("lane_setup_ms_p99", null, "ms"),
    ];

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        context.RequireNative();
        string name = $"bs{Environment.ProcessId % 100000}";
        string[] labFlags = ["--name", name, "--net", $"10.{100 + Environment.ProcessId % 100}", "--p1-rtt", "4ms", "--p2-rtt", "4ms"];
        try
        {
            BenchProcess.Run([context.LaneshimLab, "lab", "up", .. labFlags, "--quiet"], TimeSpan.FromMinutes(2), context.Cancel);
            return Measure(context, name, labFlags);
        }
        finally
        {
            BenchProcess.Quiet(context.LaneshimLab, "lab", "down", "--name", name);
        }
    }

    private static IReadOnlyList<BenchResult> Measure(BenchContext context, string lab, string[] labFlags)
    {
        string topologyText = BenchProcess.Run([context.LaneshimLab, "lab", "topology", .. labFlags], TimeSpan.FromSeconds(30));
        string topology = Path.Combine(context.WorkDirectory, "lab.topo");
        File.WriteAllText(topology, topologyText);
        string clientAddress = HostAddress(topologyText, "client"), serverAddress = HostAddress(topologyText, "server");
        string[] routers = RouterNamespaces().Matches(topologyText).Select(m => m.Groups[1].Value).ToArray();
        string client = $"{lab}-client", server = $"{lab}-server";
        int port = 20000 + Environment.ProcessId % 20000;
        using LoggedDaemon listener = LoggedDaemon.Start(BenchProcess.InNetns(server, null, context.BenchBinary, "serve", $"{port}"),
            Path.Combine(context.WorkDirectory, "serve-lab.log"), "ready", BenchProcess.DidNotStart("laneshim-bench serve"), context.Cancel);
        using BenchBroker broker = BenchBroker.Start(context, "lab", BenchRequests.Policy("1h"), "--topology", topology, "--enforce", "linux-router");
        string ifindex = InterfaceIndex(client);
        Dictionary<string, string> plainEnv = ShimEnvironment.Without(context);
        // Deadline 5 s: a lane that took longer than the default 20 ms would fail open and time a plain connect instead.
        Dictionary<string, string> laneEnv = ShimEnvironment.With(context, broker.Socket, ("LANESHIM_DEADLINE_MS", "5000"));

        // A first lane per process pays for the agent's start (first_lane_ms); here each process's first connect is warm-up.
        var lane = new List<double>();
        var plain = new List<double>();
        int rounds = context.Reps(10, 3), perRound = context.Quick ? 10 : 20;
        int grantsBefore = broker.Grants();
        for (int r = 0; r < rounds; r++)
        {
            plain.AddRange(Syn(context, client, plainEnv, ifindex, clientAddress, serverAddress, port, perRound + 1).Skip(1));
            lane.AddRange(Syn(context, client, laneEnv, ifindex, clientAddress, serverAddress, port, perRound + 1).Skip(1));
        }
        int grants = broker.Grants() - grantsBefore;
        int laneConnects = rounds * (perRound + 1);
        string rules = CheckRules(context, client, laneEnv, ifindex, clientAddress, serverAddress, port, routers);
        bool real = grants >= laneConnects && rules.StartsWith("rules found", StringComparison.Ordinal);
        double p50 = BenchStats.Median(lane), p99 = BenchStats.Percentile(lane, 99);
        double base50 = BenchStats.Median(plain), base99 = BenchStats.Percentile(plain, 99);
        string note = $"connect() to SYN on the client's interface, linux-router backend, lab {lab} ({routers.Length} routers); {grants} grants for {laneConnects} lane connects; " +
            $"{rules}; {lane.Count} lanes in {rounds} rounds; baseline: the same without the shim";
        return
        [
            new("lane_setup_ms_p50", p50, "ms") { Baseline = base50, Ratio = p50 / base50, Target = 10, Valid = real, Note = note + (real ? "" : "; INVALID: not every lane was granted and installed") },
            new("lane_setup_ms_p99", p99, "ms") { Baseline = base99, Ratio = p99 / base99, Valid = real, Note = "p99 of the same connects" },
        ];
    }

    private static IEnumerable<double> Syn(BenchContext context, string ns, Dictionary<string, string> env, string ifindex, string local, string server, int port, int n) =>
        BenchProcess.Numbers(BenchProcess.Run(BenchProcess.InNetns(ns, env, context.BenchBinary, "syn", ifindex, local, server, $"{port}", $"{n}"),
            TimeSpan.FromMinutes(2), context.Cancel)).Select(ns => ns / 1e6);

    /// <summary>Holds one lane open and looks for its element in every router's lanes set.</summary>
    private static string CheckRules(BenchContext context, string ns, Dictionary<string, string> env, string ifindex, string local, string server, int port, string[] routers)
    {
        string log = Path.Combine(context.WorkDirectory, "hold.log");
        using LoggedDaemon hold = LoggedDaemon.Start(BenchProcess.InNetns(ns, env, context.BenchBinary, "syn", ifindex, local, server, $"{port}", "1", "5000"),
            log, "holding port", BenchProcess.DidNotStart("laneshim-bench syn"), context.Cancel);
        string sport = HoldingPort().Match(hold.Log()).Groups[1].Value;
        var missing = new List<string>();
        foreach (string router in routers)
        {
            string set;
            try
            {
                set = BenchProcess.Run([BenchProcess.Ip, "netns", "exec", router, "/usr/sbin/nft", "list", "set", "inet", "laneshim", "lanes4"], TimeSpan.FromSeconds(10));
            }
            catch (BenchException e)
            {
                set = e.Message;
            }
            // A router steers the forward direction (client . sport . server . port) or the way back (reversed).
            if (!set.Contains($"{local} . {sport} . {server} . {port}", StringComparison.Ordinal) &&
                !set.Contains($"{server} . {port} . {local} . {sport}", StringComparison.Ordinal))
            {
                missing.Add(router);
            }
        }
        return missing.Count == 0
            ? $"rules found for a held lane on {string.Join(", ", routers)}"
            : $"no rule for a held lane (port {sport}) on {string.Join(", ", missing)}";
    }

    private static string HostAddress(string topology, string node) =>
        Regex.Match(topology, $@"^node {node} host addr=([0-9.]+)", RegexOptions.Multiline) is { Success: true } m
            ? m.Groups[1].Value
            : throw new BenchException($"the lab topology has no address for {node}");

    private static string InterfaceIndex(string ns)
    {
        string links = BenchProcess.Run([BenchProcess.Ip, "-n", ns, "-o", "link", "show"], TimeSpan.FromSeconds(10));
        Match m = Regex.Match(links, @"^(\d+): (?!lo:)", RegexOptions.Multiline);
        return m.Success ? m.Groups[1].Value.ToString(CultureInfo.InvariantCulture) : throw new BenchException($"{ns} has no interface but lo");
    }

    [GeneratedRegex(@"^node \S+ router netns=(\S+)", RegexOptions.Multiline)]
    private static partial Regex RouterNamespaces();

    [GeneratedRegex(@"holding port (\d+)")]
    private static partial Regex HoldingPort();
}
