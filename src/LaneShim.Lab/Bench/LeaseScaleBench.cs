// LeaseScaleBench.cs - grant_p50_us_leases_10k/_100k/_1m: one grant's cost in-process as the lease table holds more live leases.
using System.Diagnostics;
using LaneShim.Broker.Services;
using LaneShim.Core;

using LaneShim.Protocol.V1;

namespace LaneShim.Lab.Bench;

/// <summary>
/// Preloads N leases straight into the service's <see cref="Broker.Leases.LeaseTable"/> (what RequestLane stores), then
/// times RequestLane through <see cref="LaneBrokerService"/> itself: policy, sizing, lease insert, no transport.
/// </summary>
/// <remarks>
/// The table is backed by the broker's embedded default store, a SQLite file in the work directory: every grant is
/// committed before it returns, as in a broker process.
/// </remarks>
internal sealed class LeaseScaleBench : BenchSuite
{
    private static readonly (string Name, int Leases)[] Sizes = [("grant_p50_us_leases_10k", 10_000), ("grant_p50_us_leases_100k", 100_000), ("grant_p50_us_leases_1m", 1_000_000)];

    public override string Key => "leases";

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) => Sizes.Select(s => new BenchResult(s.Name, null, "us")).ToList();

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        Policy policy = PolicyParser.Parse(BenchRequests.Policy("1h"), "bench.conf");
        string database = Path.Combine(context.WorkDirectory, "lease-scale.db");
        using var cancel = new CancellationTokenSource();
        Broker.Storage.ILeaseStore store = Broker.Storage.LeaseStores.OpenAsync(database, cancel.Token).GetAwaiter().GetResult();
        try
        {
            return Measure(context, policy, store);
        }
        finally
        {
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static List<BenchResult> Measure(BenchContext context, Policy policy, Broker.Storage.ILeaseStore store)
    {
        var service = new LaneBrokerService(
            new Broker.PolicyStore(policy),
            new Broker.Leases.LeaseTable(TimeProvider.System, 1_100_000, store),
            new Broker.RttLearner(TimeProvider.System),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<LaneBrokerService>.Instance);
        var context0 = new InProcessCallContext("/laneshim.v1.LaneBroker/RequestLane", new Broker.Identity.PeerCredentials(4242, 1000, 1000));
        service.RequestLane(BenchRequests.Outbound(0), context0).GetAwaiter().GetResult();
        var results = new List<BenchResult>();
        long next = 1;
        long preloaded = 1;
        foreach ((string name, int leases) in Sizes)
        {
            context.Cancel.ThrowIfCancellationRequested();
            var t = Stopwatch.StartNew();
            if (preloaded < leases)
            {
                int add = (int)(leases - preloaded);
                if (service.Leases.PreloadAsync(add, TimeSpan.FromHours(1), context.Cancel).GetAwaiter().GetResult().Count != add)
                {
                    throw new BenchException($"the lease table refused some of {add} preloaded leases");
                }
                preloaded = leases;
            }
            context.Log.WriteLine($"bench: {leases:N0} leases preloaded in {t.Elapsed.TotalSeconds:0.0} s");
            var samples = new List<double>();
            int reps = context.Reps(5000, 500);
            for (int i = 0; i < reps; i++)
            {
                LaneRequest request = BenchRequests.Outbound(next++);
                long t0 = Stopwatch.GetTimestamp();
                service.RequestLane(request, context0).GetAwaiter().GetResult();
                samples.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
            preloaded += reps;
            results.Add(new BenchResult(name, BenchStats.Median(samples), "us")
            {
                Note = $"in-process RequestLane with {leases:N0} live leases, SQLite store (committed before answering), {reps} grants",
                Extra = new Dictionary<string, object> { ["p99_us"] = BenchStats.Percentile(samples, 99), ["store"] = "sqlite" },
            });
        }
        return results;
    }
}
