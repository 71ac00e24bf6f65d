// BrokerLoadBench.cs - broker_grants_per_s_c1/_c16/_c64 with p50/p99 latency: a real broker process, dry-run enforcement, per lease store.
namespace LaneShim.Lab.Bench;

/// <summary>
/// A `laneshim broker` with a topology (so every grant computes a path and installs steering through the dry-run
/// backend) under 1, 16 and 64 concurrent callers (<see cref="GrantLoad"/>). The unsuffixed figures are the SQLite
/// store's (the target is for SQLite); <c>_postgresql</c> ones use a temporary PostgreSQL server. Leases live 1 s so
/// the table stays far below its limit whatever the rate.
/// </summary>
/// <remarks>The load generator runs in this process and shares the machine's cores with the broker.</remarks>
internal sealed class BrokerLoadBench : BenchSuite
{
    private static readonly int[] Concurrency = [1, 16, 64];
    private const double TargetC64 = 20_000;

    public override string Key => "broker";

    private const double TargetRatioToEmpty = 0.6;

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) =>
        Concurrency.Select(c => Figure(c, "")).Append(RatioFigure).Concat(Concurrency.Select(c => Figure(c, "_postgresql"))).ToList();

    private static BenchResult RatioFigure => new("broker_grants_ratio_to_empty_rpc_c64", null, "ratio") { Target = TargetRatioToEmpty, Kind = TargetKind.AtLeast };

    private static BenchResult Figure(int c, string suffix) =>
        new($"broker_grants_per_s_c{c}{suffix}", null, "grants/s") { Target = c == 64 && suffix == "" ? TargetC64 : null, Kind = TargetKind.AtLeast };

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        if (!File.Exists(context.Laneshim))
        {
            throw new BenchException($"{context.Laneshim} is missing: run ./build.sh bench");
        }
        bool hasState = BenchStore.BrokerHasStateFlag(context);
        var results = new List<BenchResult>();
        // Without a store choice the broker's memory table is measured under the unsuffixed names, marked as such.
        BenchStore primary = hasState ? BenchStore.Sqlite(context, hasState, "grants") : BenchStore.Memory(hasState);
        results.AddRange(Measure(context, primary, "", hasState ? null :
            "store: memory (this broker has no --state flag; lead: wire the store helper's --state to measure SQLite here)"));
        BenchStore postgres;
        try
        {
            postgres = BenchStore.Postgres(context, hasState);
        }
        catch (BenchException e)
        {
            postgres = null!;
            results.AddRange(Concurrency.Select(c => Figure(c, "_postgresql") with { Note = $"not measured: temporary PostgreSQL did not start: {e.Message}" }));
            return results;
        }
        using (postgres)
        {
            results.AddRange(postgres.Unavailable is string why
                ? Concurrency.Select(c => Figure(c, "_postgresql") with { Note = $"not measured: {why}" })
                : Measure(context, postgres, "_postgresql", null));
        }
        return results;
    }

    private static IEnumerable<BenchResult> Measure(BenchContext context, BenchStore store, string suffix, string? storeNote)
    {
        using (store)
        {
            string topology = Path.Combine(context.WorkDirectory, "grants.topo");
            File.WriteAllText(topology,
                "# laneshim-lab bench: the load generator's flows (10.90/16 to 10.91/16) behind one router with a marked link\n" +
                "node client host addr=10.90.0.0/16\nnode r1 router\nnode server host addr=10.91.0.0/16\n" +
                "link client r1 capacity=100gbit latency=0ms\nlink r1 server capacity=100gbit latency=1ms mark=0x1\n");
            using BenchBroker broker = BenchBroker.Start(context, "grants" + suffix, BenchRequests.Policy("1s"),
                ["--topology", topology, "--enforce", "dry-run", .. store.BrokerFlags]);
            TimeSpan warmup = TimeSpan.FromSeconds(context.Quick ? 0.5 : 1), window = TimeSpan.FromSeconds(context.Quick ? 2 : 5);
            GrantLoad.Run(broker.Socket, 4, TimeSpan.Zero, TimeSpan.FromSeconds(0.5), context.Cancel); // JIT and connections warm
            foreach (int c in Concurrency)
            {
                context.Cancel.ThrowIfCancellationRequested();
                GrantLoadOutcome o = GrantLoad.Run(broker.Socket, c, warmup, window, context.Cancel);
                context.Log.WriteLine($"bench: {store.Name} c{c}: {o.GrantsPerSecond:0} grants/s, p50 {o.P50Us:0} us, p99 {o.P99Us:0} us");
                string errors = o.Errors > 0 ? $"; {o.Errors} refused (first: {o.FirstError})" : "";
                bool forTarget = c == 64 && suffix == "";
                BenchResult grantsFigure = Figure(c, suffix) with
                {
                    Value = o.GrantsPerSecond,
                    Valid = !forTarget || store.Name == "sqlite",
                    Note = $"{c} callers on {o.Connections} HTTP/2 connections, {window.TotalSeconds:0} s: p50 {o.P50Us:0} us, p99 {o.P99Us:0} us; " +
                        $"topology + dry-run enforcement{errors}; " + (storeNote ?? $"store: {store.Name}") +
                        (forTarget && store.Name != "sqlite" ? "; the target is for SQLite: not met until measured there" : ""),
                    Extra = new Dictionary<string, object> { ["p50_us"] = o.P50Us, ["p99_us"] = o.P99Us, ["store"] = store.Name },
                };
                yield return grantsFigure;
                if (forTarget)
                {
                    // The same broker process doing no work per call: grpc.health.v1.Health/Check from as many callers, right after.
                    GrantLoadOutcome empty = GrantLoad.Run(broker.Socket, c, warmup, window, context.Cancel, emptyRpc: true);
                    context.Log.WriteLine($"bench: {store.Name} c{c}: {empty.GrantsPerSecond:0} Health/Check calls/s, p50 {empty.P50Us:0} us, p99 {empty.P99Us:0} us");
                    double ratio = o.GrantsPerSecond / empty.GrantsPerSecond;
                    yield return RatioFigure with
                    {
                        Value = ratio,
                        Baseline = empty.GrantsPerSecond,
                        Ratio = ratio,
                        Valid = store.Name == "sqlite" && empty.Errors == 0,
                        Note = $"{o.GrantsPerSecond:0} grants/s over {empty.GrantsPerSecond:0} grpc.health.v1.Health/Check calls/s, both from {c} callers on their own " +
                            $"connections for {window.TotalSeconds:0} s against the same broker process (Check: p50 {empty.P50Us:0} us, p99 {empty.P99Us:0} us" +
                            (empty.Errors > 0 ? $"; {empty.Errors} failed: {empty.FirstError}" : "") + $"); store: {store.Name}",
                        Extra = new Dictionary<string, object> { ["empty_rpc_per_s"] = empty.GrantsPerSecond, ["empty_p50_us"] = empty.P50Us, ["empty_p99_us"] = empty.P99Us },
                    };
                }
            }
        }
    }
}
