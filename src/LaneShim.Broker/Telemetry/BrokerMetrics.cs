// BrokerMetrics.cs - the broker's counters and histogram, and their rendering for /metrics.
using System.Collections.Concurrent;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Paths;
using LaneShim.Core.Topology;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Telemetry;

/// <summary>
/// What /metrics serves. Counters are updated by the service as it answers; gauges (leases, links, topology) are read
/// from the live state at scrape time, so they cannot drift.
/// </summary>
public sealed class BrokerMetrics
{
    private readonly ConcurrentDictionary<(string Class, string Result), long> _grants = new();
    private readonly ConcurrentDictionary<string, long> _limited = new(StringComparer.Ordinal);
    private long _flowsReported;
    private long _bytesSent;
    private long _bytesReceived;
    private long _renewals;
    private long _releases;

    /// <summary>RequestLane durations, as the broker measured them (receipt to answer).</summary>
    public LatencyHistogram RequestLatency { get; } = new();

    /// <summary>Counts one RequestLane answer; <paramref name="result"/> is "granted" or a lower-case gRPC status name.</summary>
    public void Grant(string laneClass, string result, TimeSpan duration)
    {
        _grants.AddOrUpdate((laneClass.Length == 0 ? "none" : laneClass, result), 1, (_, n) => n + 1);
        RequestLatency.Observe(duration);
    }

    /// <summary>Counts one renewal.</summary>
    public void Renewed() => Interlocked.Increment(ref _renewals);

    /// <summary>Counts one release.</summary>
    public void Released() => Interlocked.Increment(ref _releases);

    /// <summary>Counts one closed flow's report: its bytes and what limited it.</summary>
    public void FlowClosed(FlowStats? stats, string limitedBy)
    {
        Interlocked.Increment(ref _flowsReported);
        if (stats is not null)
        {
            Interlocked.Add(ref _bytesSent, (long)Math.Min(stats.BytesAcked, long.MaxValue));
            Interlocked.Add(ref _bytesReceived, (long)Math.Min(stats.BytesReceived, long.MaxValue));
        }
        _limited.AddOrUpdate(limitedBy, 1, (_, n) => n + 1);
    }

    /// <summary>The exposition text (format 0.0.4).</summary>
    public string Render(LeaseTable leases, PathService? paths)
    {
        ArgumentNullException.ThrowIfNull(leases);
        var w = new PrometheusWriter();
        w.Family("laneshim_grants_total", "counter", "RequestLane answers by lane class and result (granted, or the gRPC status).");
        foreach (var ((laneClass, result), n) in _grants.OrderBy(e => e.Key.Class, StringComparer.Ordinal).ThenBy(e => e.Key.Result, StringComparer.Ordinal))
        {
            w.Sample("laneshim_grants_total", n, ("class", laneClass), ("result", result));
        }
        w.Family("laneshim_request_duration_seconds", "histogram", "Time the broker took to answer RequestLane.");
        RequestLatency.WriteTo(w, "laneshim_request_duration_seconds");

        IReadOnlyList<LeaseEntry> live = leases.List();
        w.Family("laneshim_active_leases", "gauge", "Live leases by lane class.");
        w.Sample("laneshim_active_leases", live.Count);
        foreach (var group in live.GroupBy(e => e.Grant.LaneClass).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            w.Sample("laneshim_active_leases", group.Count(), ("class", group.Key));
        }
        w.Family("laneshim_lease_renewals_total", "counter", "Leases renewed.");
        w.Sample("laneshim_lease_renewals_total", Interlocked.Read(ref _renewals));
        w.Family("laneshim_lease_releases_total", "counter", "Leases released by their holder.");
        w.Sample("laneshim_lease_releases_total", Interlocked.Read(ref _releases));

        w.Family("laneshim_flows_reported_total", "counter", "Closed flows reported by agents.");
        w.Sample("laneshim_flows_reported_total", Interlocked.Read(ref _flowsReported));
        w.Family("laneshim_flows_limited_total", "counter", "Closed flows by what limited them.");
        foreach (var (limitedBy, n) in _limited.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            w.Sample("laneshim_flows_limited_total", n, ("limited_by", limitedBy));
        }
        w.Family("laneshim_flow_bytes_total", "counter", "Bytes moved by reported flows: sent (acked by the peer) and received.");
        w.Sample("laneshim_flow_bytes_total", Interlocked.Read(ref _bytesSent), ("direction", "sent"));
        w.Sample("laneshim_flow_bytes_total", Interlocked.Read(ref _bytesReceived), ("direction", "received"));

        if (paths is not null)
        {
            SiteTopology topology = paths.Topology;
            w.Family("laneshim_topology_version", "gauge", "Version of the topology paths are computed on.");
            w.Sample("laneshim_topology_version", topology.Version);
            var used = new Dictionary<int, ulong>();
            var leaseRates = live.ToDictionary(e => e.Id, e => e.Grant.RateBps, StringComparer.Ordinal);
            foreach (var (leaseId, steering) in paths.Installed)
            {
                if (leaseRates.TryGetValue(leaseId, out ulong rate))
                {
                    foreach (TopologyLink link in steering.Path.Links)
                    {
                        used[link.Index] = used.GetValueOrDefault(link.Index) + rate;
                    }
                }
            }
            w.Family("laneshim_link_capacity_bps", "gauge", "Capacity of each topology link that is up, bits per second.");
            foreach (TopologyLink link in topology.Links)
            {
                w.Sample("laneshim_link_capacity_bps", link.CapacityBps, ("link", link.ToString()));
            }
            w.Family("laneshim_link_granted_bps", "gauge", "Sum of the granted rates of the steered lanes on each link, bits per second.");
            foreach (TopologyLink link in topology.Links)
            {
                w.Sample("laneshim_link_granted_bps", used.GetValueOrDefault(link.Index), ("link", link.ToString()));
            }
        }
        return w.ToString();
    }
}
