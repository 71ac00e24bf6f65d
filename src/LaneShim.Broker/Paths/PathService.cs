// PathService.cs - finds a lane's path in the site topology and turns it into router rules, and keeps them per lease.
using System.Collections.Concurrent;
using System.Net;
using LaneShim.Broker.Enforcement;
using LaneShim.Core.Topology;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Paths;

/// <summary>Topology + enforcement backend: the path for a flow, and its installed steering by lease.</summary>
public sealed class PathService
{
    private readonly ConcurrentDictionary<string, Steering> _installed = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private SiteTopology _topology;

    public PathService(SiteTopology topology, IEnforcementBackend backend, PathMetric metric, ILogger<PathService> logger)
    {
        _topology = topology;
        Backend = backend;
        Metric = metric;
        _logger = logger;
        backend.Prepare(topology.Nodes.Where(n => n.Role is NodeRole.Router or NodeRole.Switch).Select(n => (n.Name, n.Netns)));
    }

    public IEnforcementBackend Backend { get; }

    public PathMetric Metric { get; }

    public SiteTopology Topology => Volatile.Read(ref _topology);

    /// <summary>Steerings installed now, by lease id.</summary>
    public IReadOnlyDictionary<string, Steering> Installed => _installed;

    /// <summary>The middlebox-free path between the hosts owning the two addresses, or null (unknown host, or no such path).</summary>
    public LanePath? PathFor(IPAddress local, IPAddress remote, out string why)
    {
        SiteTopology topology = Topology;
        TopologyNode? a = topology.HostOf(local), b = topology.HostOf(remote);
        if (a is null || b is null)
        {
            why = $"{(a is null ? local : remote)} is not a host of {topology.Source}";
            return null;
        }
        LanePath? path = PathFinder.Find(topology, a.Name, b.Name, Metric);
        why = path is null ? $"no middlebox-free path from {a.Name} to {b.Name} in {topology.Source}" : "";
        return path;
    }

    /// <summary>
    /// The rules that pin a flow to <paramref name="path"/>: at each router whose next link toward the destination
    /// carries a mark, the forward direction; at each router whose next link back toward the source carries one,
    /// the reverse direction.
    /// </summary>
    public Steering SteeringFor(string leaseId, LanePath path, IPEndPoint local, IPEndPoint remote, TimeSpan ttl)
    {
        var rules = new List<SteeringRule>();
        for (int i = 1; i < path.Nodes.Count - 1; i++)
        {
            TopologyNode node = Topology.Node(path.Nodes[i])!;
            if (node.Role is not (NodeRole.Router or NodeRole.Switch))
            {
                continue;
            }
            TopologyLink toward = path.Links[i], back = path.Links[i - 1];
            if (toward.Mark != 0)
            {
                rules.Add(new SteeringRule(node.Name, node.Netns, toward.Mark, Plain(local.Address), local.Port, Plain(remote.Address), remote.Port));
            }
            if (back.Mark != 0)
            {
                rules.Add(new SteeringRule(node.Name, node.Netns, back.Mark, Plain(remote.Address), remote.Port, Plain(local.Address), local.Port));
            }
        }
        return new Steering(leaseId, path, rules, ttl);
    }

    /// <summary>
    /// Computes a path and its rules between the first two hosts of the topology without installing anything,
    /// so the first real lane does not pay for compiling this code.
    /// </summary>
    public void WarmUp()
    {
        TopologyNode[] hosts = Topology.Nodes.Where(n => n.Role == NodeRole.Host && n.Addresses.Count > 0).Take(2).ToArray();
        if (hosts.Length == 2 && PathFor(hosts[0].Addresses[0].Network, hosts[1].Addresses[0].Network, out _) is LanePath path)
        {
            SteeringFor("warm-up", path, new IPEndPoint(hosts[0].Addresses[0].Network, 1), new IPEndPoint(hosts[1].Addresses[0].Network, 1), TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Installs a lease's steering (nothing to do when it has no rules).</summary>
    public async Task InstallAsync(Steering steering, CancellationToken cancellationToken)
    {
        if (steering.Rules.Count == 0)
        {
            return;
        }
        await Backend.InstallAsync(steering, cancellationToken).ConfigureAwait(false);
        _installed[steering.LeaseId] = steering;
    }

    /// <summary>Removes a lease's steering, if it has one.</summary>
    public async Task RemoveAsync(string leaseId, CancellationToken cancellationToken)
    {
        if (_installed.TryRemove(leaseId, out Steering? steering))
        {
            try
            {
                await Backend.RemoveAsync(steering, cancellationToken).ConfigureAwait(false);
            }
            catch (EnforcementException e)
            {
                // The kernel timeout removes it anyway; say so rather than fail the release.
                _logger.LogWarning("removing steering of lease {Lease}: {Error}; it expires with its timeout", leaseId[..Math.Min(8, leaseId.Length)], e.Message);
            }
        }
    }

    /// <summary>The routers and switches of the topology: everything enforcement may have programmed.</summary>
    public IReadOnlyCollection<(string Router, string? Netns)> Routers =>
        Topology.Nodes.Where(n => n.Role is NodeRole.Router or NodeRole.Switch).Select(n => (n.Name, n.Netns)).ToList();

    /// <summary>Makes the network hold exactly <paramref name="live"/> (see <see cref="IEnforcementBackend.ReconcileAsync"/>) and remembers them as installed.</summary>
    public async Task ReconcileAsync(IReadOnlyList<Steering> live, CancellationToken cancellationToken)
    {
        await Backend.ReconcileAsync(Routers, live, cancellationToken).ConfigureAwait(false);
        _installed.Clear();
        foreach (Steering steering in live)
        {
            _installed[steering.LeaseId] = steering;
        }
    }

    /// <summary>Refreshes a renewed lease's rules.</summary>
    public async Task RenewAsync(string leaseId, TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (_installed.TryGetValue(leaseId, out Steering? steering))
        {
            Steering renewed = steering with { Ttl = ttl };
            await Backend.RenewAsync(renewed, cancellationToken).ConfigureAwait(false);
            _installed[leaseId] = renewed;
        }
    }

    private static IPAddress Plain(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
