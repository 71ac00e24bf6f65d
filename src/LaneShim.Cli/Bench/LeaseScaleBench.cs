// LeaseScaleBench.cs - grant_p50_us_leases_10k/_100k/_1m: one grant's cost in-process as the lease table holds more live leases.
using System.Diagnostics;
using LaneShim.Broker.Services;
using LaneShim.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Cli.Bench;

/// <summary>
/// Preloads N leases straight into the service's <see cref="Broker.Leases.LeaseTable"/> (what RequestLane stores), then
/// times RequestLane through <see cref="LaneBrokerService"/> itself: policy, sizing, lease insert, no transport.
/// </summary>
/// <remarks>
/// Lead: once the "store" helper's durable lease store lands, build the service over that store here (SQLite file in the
/// work directory) and name the store in the note; today the service's table is in memory.
/// </remarks>
internal sealed class LeaseScaleBench : BenchSuite
{
    private static readonly (string Name, int Leases)[] Sizes = [("grant_p50_us_leases_10k", 10_000), ("grant_p50_us_leases_100k", 100_000), ("grant_p50_us_leases_1m", 1_000_000)];

    public override string Key => "leases";

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) => Sizes.Select(s => new BenchResult(s.Name, null, "us")).ToList();

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        Policy policy = PolicyParser.Parse(BenchRequests.Policy("1h"), "bench.conf");
        LaneBrokerService service = LaneBrokerService.Create(policy, maxLeases: 1_100_000);
        var context0 = new ServerCallContext("/laneshim.v1.LaneBroker/RequestLane", "bench", new PeerCredentials(4242, 1000, 1000), null, CancellationToken.None);
        LaneGrant template = service.RequestLane(BenchRequests.Outbound(0), context0).GetAwaiter().GetResult();
        var results = new List<BenchResult>();
        long next = 1;
        long preloaded = 1;
        foreach ((string name, int leases) in Sizes)
        {
            context.Cancel.ThrowIfCancellationRequested();
            var t = Stopwatch.StartNew();
            while (preloaded < leases)
            {
                LaneRequest r = BenchRequests.Outbound(next++);
                if (service.Leases.TryAdd(r.Flow, r.Program, template, TimeSpan.FromHours(1)) is null)
                {
                    throw new BenchException($"the lease table refused lease {preloaded + 1}");
                }
                preloaded++;
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
                Note = $"in-process RequestLane with {leases:N0} live leases, memory store, {reps} grants",
                Extra = new Dictionary<string, object> { ["p99_us"] = BenchStats.Percentile(samples, 99), ["store"] = "memory" },
            });
        }
        return results;
    }
}
