// ConnectBench.cs - connect() over a veth between namespaces: no shim, an ineligible destination, a cached lane, a fresh lane per connect on both agent transports, and the peers they are compared with.
using System.Globalization;
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Bench;

/// <summary>
/// Modes, each a process in the client namespace timing N operations; the modes take turns round after round (in a
/// rotating order) so drift and load hit all alike:
/// <list type="bullet">
/// <item>plain: connect() without the shim (the baseline);</item>
/// <item>ineligible: the shim with the destination in LANESHIM_EXCLUDE, the cheap prefilter a site's non-lane traffic takes;</item>
/// <item>nolane (reported beside ineligible): eligible, but the broker has no rule for it; the agent caches the refusal;</item>
/// <item>cached: the shim and a broker whose grant (no topology: shared, cached per destination) the agent reuses;</item>
/// <item>floor: the bare setsockopt calls that cached grant makes (strace of a cached connect), timed in C on fresh sockets;</item>
/// <item>cold and cold_sockets: the shim and a broker with a topology and dry-run enforcement, whose grants are per flow
/// and never cached, with the agent on its direct HTTP/2 handler and on SocketsHttpHandler (LANESHIM_AGENT_TRANSPORT=sockets);</item>
/// <item>grpcio: python3-grpcio calling RequestLane on the same cold broker for sockets it owns (tests/interop/grpc_peer.py bench).</item>
/// </list>
/// Each process's first connects (agent load) are warm-up and not counted, and the cold broker first serves 12,000 untimed grants.
/// </summary>
internal sealed class ConnectBench : BenchSuite
{
    private const int Warmup = 5;
    private const int PythonWarmup = 50;
    private const int BrokerWarmupProcesses = 12;
    private const string Python = "/usr/bin/python3";

    public override string Key => "connect";

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) =>
    [
        new("connect_ineligible_ratio", null, "ratio") { Target = 1.01 },
        new("connect_cached_lane_added_us", null, "us") { Target = 5 },
        new("connect_cached_lane_ratio_to_floor", null, "ratio") { Target = 1.5 },
        new("connect_cold_lane_p50_us", null, "us") { Target = 150 },
        new("connect_cold_lane_p99_us", null, "us") { Target = 1000 },
        new("connect_cold_lane_ratio_to_grpcio_p50", null, "ratio") { Target = 1.0 },
        new("connect_cold_lane_ratio_to_grpcio_p99", null, "ratio") { Target = 1.2 },
        new("connect_cold_lane_p50_us_sockets", null, "us"),
        new("connect_cold_lane_p99_us_sockets", null, "us"),
        new("connect_cold_lane_ratio_to_grpcio_p50_sockets", null, "ratio"),
        new("connect_cold_lane_ratio_to_grpcio_p99_sockets", null, "ratio"),
    ];

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        context.RequireNative();
        using var net = new BenchNetns(context);
        int port = 20000 + Environment.ProcessId % 20000;
        // Client and server each on their own CPU, the same in every mode: where the scheduler puts them otherwise moves
        // the plain connect's time by more than the shim costs (21.5 against 23.5 us between runs here).
        string[] serverCpu = Pin(1), clientCpu = Pin(0);
        using LoggedDaemon server = LoggedDaemon.Start(BenchProcess.InNetns(net.Server, null, [.. serverCpu, context.BenchBinary, "serve", $"{port}"]),
            Path.Combine(context.WorkDirectory, "serve.log"), "ready", BenchProcess.DidNotStart("laneshim-bench serve"), context.Cancel);
        using BenchBroker cachedBroker = BenchBroker.Start(context, "cached", BenchRequests.Policy("1h"));
        string topology = Path.Combine(context.WorkDirectory, "cold.topo");
        File.WriteAllText(topology,
            "# laneshim-lab bench: the client and server namespaces behind one router whose link to the server is marked\n" +
            $"node client host addr={net.ClientAddress}/32\nnode r1 router\nnode server host addr={net.ServerAddress}/32\n" +
            "link client r1 capacity=10gbit latency=0ms\nlink r1 server capacity=10gbit latency=0ms mark=0x1\n");
        using BenchBroker refusingBroker = BenchBroker.Start(context, "refusing",
            "# laneshim-lab bench: no rule matches the benchmark's server\nclass bench rate=1gbit rtt=20ms ttl=1h\nrule dst=192.0.2.0/24 -> bench\n");
        using BenchBroker coldBroker = BenchBroker.Start(context, "cold", BenchRequests.Policy("1h"), "--topology", topology, "--enforce", "dry-run");

        int rounds = context.Reps(20, 4), perRound = context.Quick ? 200 : 500;
        // A generous deadline: under load a grant may take longer than 20 ms, and a connect that failed open would be
        // timed as a lane's. The deadline bounds waiting; it does not change what a grant costs.
        Dictionary<string, string> cachedEnv = ShimEnvironment.With(context, cachedBroker.Socket, ("LANESHIM_DEADLINE_MS", "2000"));
        Dictionary<string, string> coldEnv = ShimEnvironment.With(context, coldBroker.Socket, ("LANESHIM_DEADLINE_MS", "2000"));
        string[] ConnectArgv(Dictionary<string, string> env) =>
            BenchProcess.InNetns(net.Client, env, [.. clientCpu, context.BenchBinary, "connect", net.ServerAddress, $"{port}", $"{perRound}", $"{Warmup}"]);

        // What a cached grant costs at the least: the setsockopt calls the agent makes for it, as strace sees them.
        (IReadOnlyList<string>? floorCalls, string floorWhy) = FloorCalls(context, net, port, cachedEnv);
        string? grpcPeer = File.Exists(Python) ? Path.Combine(context.SourceTree, "tests", "interop", "grpc_peer.py") : null;
        string grpcioWhy = grpcPeer is null ? $"{Python} is missing (python3-grpcio)" : File.Exists(grpcPeer) ? "" : $"{grpcPeer} is missing";
        if (grpcioWhy.Length > 0)
        {
            grpcPeer = null;
        }

        var modes = new List<(string Name, Func<string[]> Argv)>
        {
            ("plain", () => ConnectArgv(ShimEnvironment.Without(context))),
            ("ineligible", () => ConnectArgv(ShimEnvironment.With(context, cachedBroker.Socket, ("LANESHIM_EXCLUDE", net.ServerAddress + "/32")))),
            ("nolane", () => ConnectArgv(ShimEnvironment.With(context, refusingBroker.Socket, ("LANESHIM_DEADLINE_MS", "2000")))),
            ("cached", () => ConnectArgv(cachedEnv)),
            ("cold", () => ConnectArgv(coldEnv)),
            ("cold_sockets", () => ConnectArgv(new Dictionary<string, string>(coldEnv) { ["LANESHIM_AGENT_TRANSPORT"] = "sockets" })),
        };
        if (floorCalls is not null)
        {
            modes.Add(("floor", () => BenchProcess.InNetns(net.Client, ShimEnvironment.Without(context),
                [.. clientCpu, context.BenchBinary, "setsockopt", "4", $"{perRound}", .. floorCalls])));
        }
        if (grpcPeer is not null)
        {
            modes.Add(("grpcio", () => BenchProcess.InNetns(net.Client, ShimEnvironment.Without(context),
                [.. clientCpu, Python, grpcPeer, "bench", "--target", "unix:" + coldBroker.Socket, "--remote", $"{net.ServerAddress}:{port}",
                    "--count", $"{perRound}", "--warmup", $"{PythonWarmup}"])));
        }
        var samples = modes.ToDictionary(m => m.Name, _ => new List<double>());
        var grants = new Dictionary<string, int> { ["cold"] = 0, ["cold_sockets"] = 0 };

        // A broker is a long-running daemon: before timing, the cold broker serves 12,000 grants (3-4 s) so its JIT has
        // compiled the grant path at full optimisation, as in any broker that has run a while. With 3,000 the tiered JIT
        // was still recompiling during the timed rounds, and the p99 moved between 0.7 and 2.4 ms from run to run.
        for (int w = 0; w < BrokerWarmupProcesses; w++)
        {
            BenchProcess.Run(BenchProcess.InNetns(net.Client, coldEnv, [.. clientCpu, context.BenchBinary, "connect", net.ServerAddress, $"{port}", "1000", $"{Warmup}"]),
                TimeSpan.FromMinutes(2), context.Cancel);
        }

        for (int r = 0; r < rounds; r++)
        {
            for (int k = 0; k < modes.Count; k++)
            {
                (string name, Func<string[]> argv) = modes[(k + r) % modes.Count];
                int before = grants.ContainsKey(name) ? coldBroker.Grants() : 0;
                string output = BenchProcess.Run(argv(), TimeSpan.FromMinutes(2), context.Cancel);
                samples[name].AddRange(BenchProcess.Numbers(output).Select(ns => ns / 1000));
                if (grants.ContainsKey(name))
                {
                    grants[name] += coldBroker.Grants() - before;
                }
            }
        }
        int coldConnects = rounds * (perRound + Warmup);
        int cachedGrants = cachedBroker.Grants();

        double plain = BenchStats.Median(samples["plain"]);
        double plainP99 = BenchStats.Percentile(samples["plain"], 99);
        double ineligible = BenchStats.Median(samples["ineligible"]);
        double noLane = BenchStats.Median(samples["nolane"]);
        double cached = BenchStats.Median(samples["cached"]);
        string counts = $"{rounds} interleaved rounds of {perRound} per mode" + (clientCpu.Length > 0 ? "; client on CPU 0, server on CPU 1" : "");
        bool cachedReal = cachedGrants >= 1;
        double? grpcioP50 = samples.TryGetValue("grpcio", out List<double>? py) ? BenchStats.Median(py) : null;
        double? grpcioP99 = py is not null ? BenchStats.Percentile(py, 99) : null;
        var results = new List<BenchResult>
        {
            new("connect_ineligible_ratio", ineligible / plain, "ratio")
            {
                Baseline = plain, Ratio = ineligible / plain, Target = 1.01,
                Note = $"median connect {ineligible:0.0} us with the shim (destination in LANESHIM_EXCLUDE) vs {plain:0.0} us without; {counts}; " +
                    $"no_lane_ratio: a destination the broker refuses (NOT_FOUND, then the agent's negative cache) {noLane:0.0} us",
                Extra = new Dictionary<string, object> { ["no_lane_ratio"] = noLane / plain },
            },
            new("connect_cached_lane_added_us", cached - plain, "us")
            {
                Baseline = plain, Ratio = cached / plain, Target = 5, Valid = cachedReal,
                Note = $"median connect {cached:0.0} us with a cached lane vs {plain:0.0} us without; {cachedGrants} broker grants for all cached connects; {counts}"
                    + (cachedReal ? "" : "; INVALID: the broker granted nothing"),
            },
        };
        if (floorCalls is not null)
        {
            double floor = BenchStats.Median(samples["floor"]);
            results.Add(new("connect_cached_lane_ratio_to_floor", (cached - plain) / floor, "ratio")
            {
                Baseline = floor, Ratio = (cached - plain) / floor, Target = 1.5, Valid = cachedReal,
                Note = $"(cached-lane connect - plain connect) {cached - plain:0.00} us over the grant's bare setsockopt calls, timed in C on fresh sockets, " +
                    $"{floor:0.00} us (median): {string.Join(' ', floorCalls)}; {counts}",
            });
        }
        else
        {
            results.Add(BenchResult.Missing("connect_cached_lane_ratio_to_floor", "ratio", $"not measured: {floorWhy}", 1.5));
        }

        foreach ((string mode, string suffix, string transport) in new[] { ("cold", "", "the direct HTTP/2 handler"), ("cold_sockets", "_sockets", "SocketsHttpHandler") })
        {
            double p50 = BenchStats.Median(samples[mode]), p99 = BenchStats.Percentile(samples[mode], 99);
            // Every cold connect must have had its own grant; fewer grants mean the agent failed open and the figure is not a lane's.
            bool real = grants[mode] >= coldConnects;
            string validity = real ? "" : $"; INVALID: {grants[mode]} grants for {coldConnects} connects (some failed open)";
            bool target = suffix.Length == 0;
            results.Add(new($"connect_cold_lane_p50_us{suffix}", p50, "us")
            {
                Baseline = plain, Ratio = p50 / plain, Target = target ? 150 : null, Valid = real,
                Note = $"agent on {transport}: a fresh per-flow grant from a local broker (topology, dry-run enforcement) on every connect: " +
                    $"{grants[mode]} grants for {coldConnects} connects, after {BrokerWarmupProcesses * 1000} untimed warm-up grants; {counts}" + validity,
            });
            results.Add(new($"connect_cold_lane_p99_us{suffix}", p99, "us")
            {
                Baseline = plainP99, Ratio = p99 / plainP99, Target = target ? 1000 : null, Valid = real,
                Note = $"agent on {transport}: p99 of the same connects; baseline: p99 without the shim" + validity,
            });
            if (grpcioP50 is double g50 && grpcioP99 is double g99)
            {
                results.Add(new($"connect_cold_lane_ratio_to_grpcio_p50{suffix}", (p50 - plain) / g50, "ratio")
                {
                    Baseline = g50, Ratio = (p50 - plain) / g50, Target = target ? 1.0 : null, Valid = real,
                    Note = $"agent on {transport}: (cold-lane connect p50 {p50:0.0} - plain p50 {plain:0.0}) us over python3-grpcio's RequestLane p50 {g50:0.0} us " +
                        $"(same broker, a bound socket of its own per call, one channel, {PythonWarmup} untimed calls per process; the call alone is timed)" + validity,
                });
                results.Add(new($"connect_cold_lane_ratio_to_grpcio_p99{suffix}", (p99 - plainP99) / g99, "ratio")
                {
                    Baseline = g99, Ratio = (p99 - plainP99) / g99, Target = target ? 1.2 : null, Valid = real,
                    Note = $"agent on {transport}: (cold-lane connect p99 {p99:0.0} - plain p99 {plainP99:0.0}) us over python3-grpcio's RequestLane p99 {g99:0.0} us" + validity,
                });
            }
            else
            {
                results.Add(BenchResult.Missing($"connect_cold_lane_ratio_to_grpcio_p50{suffix}", "ratio", $"not measured: {grpcioWhy}", target ? 1.0 : null));
                results.Add(BenchResult.Missing($"connect_cold_lane_ratio_to_grpcio_p99{suffix}", "ratio", $"not measured: {grpcioWhy}", target ? 1.2 : null));
            }
        }
        return results;
    }

    // One cached-lane connect run under strace (after the agent's warm-up connects): the setsockopt calls on the lane's socket.
    private static (IReadOnlyList<string>? Calls, string Why) FloorCalls(BenchContext context, BenchNetns net, int port, Dictionary<string, string> env)
    {
        const string Strace = "/usr/bin/strace";
        if (!File.Exists(Strace))
        {
            return (null, $"{Strace} is missing (it finds the calls a cached grant makes)");
        }
        string log = Path.Combine(context.WorkDirectory, "cached.strace");
        BenchProcess.Run([BenchProcess.Ip, "netns", "exec", net.Client, Strace, "-f", "-X", "raw", "-e", "trace=socket,setsockopt,connect", "-o", log,
            .. env.SelectMany(kv => new[] { "-E", $"{kv.Key}={kv.Value}" }), context.BenchBinary, "connect", net.ServerAddress, port.ToString(CultureInfo.InvariantCulture), "1", $"{Warmup}"],
            TimeSpan.FromMinutes(1), context.Cancel);
        IReadOnlyList<string>? calls = GrantSetsockopts.Parse(File.ReadAllText(log), net.ServerAddress, out string why);
        return calls is { Count: > 0 } ? (calls, "") : (null, calls is null ? why : "the cached grant made no setsockopt call");
    }

    // taskset to one CPU when there are at least two; nothing otherwise.
    private static string[] Pin(int cpu) =>
        Environment.ProcessorCount >= 2 && File.Exists("/usr/bin/taskset") ? ["/usr/bin/taskset", "-c", cpu.ToString(CultureInfo.InvariantCulture)] : [];
}
