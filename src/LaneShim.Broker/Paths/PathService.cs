// PathService.cs - finds a lane's path in the site topology and turns it into router rules, and keeps them per lease.
using System.Collections.Concurrent;
using System.Net;
using LaneShim.Broker.Enforcement;
using LaneShim.Core.Topology;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Paths;

/// <summary>Topology + enforcement backend: the path for a flow, and its installed steering by lease.</summary>
/// <remarks>
/// The topology changes at runtime (<see cref="SetLinkStateAsync"/>), each change at a new version. Installing is a
/// compare-and-swap on that version: <see cref="TryInstallAsync"/> installs a path only while the topology is still at
/// the version the path was computed on, and a change waits for installs in flight (one gate serialises both), so no
/// lane is ever installed on a link the current version lacks. Installs are short (a netlink batch), so one gate costs little.
/// </remarks>
public sealed class PathService
{
    private readonly ConcurrentDictionary<string, Steering> _installed = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SiteTopology _full;
    private readonly HashSet<int> _down = [];
    private SiteTopology _topology;

    /// <summary>Paths over <paramref name="topology"/> (its version 1), steered by <paramref name="backend"/>, which gets every router and switch to prepare for.</summary>
    /// <param name="topology">The site's nodes and links as the topology file gives them.</param>
    /// <param name="backend">How lanes are put on the network (linux-router, dry-run).</param>
    /// <param name="metric">Which middlebox-free path a lane takes: fastest, widest or shortest.</param>
    /// <param name="logger">Where topology changes and installs are logged.</param>
    public PathService(SiteTopology topology, IEnforcementBackend backend, PathMetric metric, ILogger<PathService> logger)
    {
        _topology = topology;
        _full = topology;
        Backend = backend;
        Metric = metric;
        _logger = logger;
        backend.Prepare(topology.Nodes.Where(n => n.Role is NodeRole.Router or NodeRole.Switch).Select(n => (n.Name, n.Netns)));
    }

    /// <summary>The backend that installs, renews and removes steering rules.</summary>
    public IEnforcementBackend Backend { get; }

    /// <summary>The path metric every lane is routed by.</summary>
    public PathMetric Metric { get; }

    /// <summary>The current topology version: the file's, minus links taken down by SetLinkState.</summary>
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

    /// <summary>
    /// Installs a lease's steering if the topology is still at the version its path was computed on; false (nothing
    /// installed) when it changed, and the caller recomputes the path on the new version.
    /// </summary>
    public async Task<bool> TryInstallAsync(Steering steering, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Topology.Version != steering.Path.TopologyVersion)
            {
                return false;
            }
            await InstallAsync(steering, cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Replaces the topology (a reloaded file) at the next version; links taken down by <see cref="SetLinkStateAsync"/>
    /// come back (the file is the truth). Installed steerings whose path uses a link the new topology lacks (same ends
    /// and mark) are withdrawn. Returns the new version and how many were withdrawn.
    /// </summary>
    public async Task<(long Version, int Withdrawn)> ReplaceTopologyAsync(SiteTopology topology, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topology);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var next = new SiteTopology(topology.Nodes, topology.Links, Topology.Version + 1, topology.Source);
            _full = next;
            _down.Clear();
            Volatile.Write(ref _topology, next);
            int withdrawn = 0;
            foreach ((string leaseId, Steering steering) in _installed)
            {
                bool intact = steering.Path.Links.All(l => next.Links.Any(n => n.Mark == l.Mark && ((n.A == l.A && n.B == l.B) || (n.A == l.B && n.B == l.A))))
                    && steering.Path.Nodes.All(n => next.Node(n) is not null);
                if (!intact)
                {
                    await RemoveAsync(leaseId, cancellationToken).ConfigureAwait(false);
                    withdrawn++;
                }
            }
            _logger.LogInformation("topology {Source} reloaded: {Nodes} nodes, {Links} links; version {Version}; {Withdrawn} steered lanes withdrawn",
                next.Source, next.Nodes.Count, next.Links.Count, next.Version, withdrawn);
            return (next.Version, withdrawn);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Takes the link between nodes <paramref name="a"/> and <paramref name="b"/> down, or brings it back, as a new
    /// topology version. Installed steerings whose path used a link now down are withdrawn (their flows take the default
    /// route; their leases stay). Returns the new version and how many were withdrawn.
    /// </summary>
    /// <exception cref="ArgumentException">No link joins the two nodes.</exception>
    public async Task<(long Version, int Withdrawn)> SetLinkStateAsync(string a, string b, bool up, CancellationToken cancellationToken)
    {
        TopologyLink[] matching = _full.Links.Where(l => (l.A == a && l.B == b) || (l.A == b && l.B == a)).ToArray();
        if (matching.Length == 0)
        {
            throw new ArgumentException($"no link joins '{a}' and '{b}' in {_full.Source}");
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (TopologyLink link in matching)
            {
                if (up)
                {
                    _down.Remove(link.Index);
                }
                else
                {
                    _down.Add(link.Index);
                }
            }
            // Links keep their index from the file, so a path's links can be compared across versions.
            var next = new SiteTopology(_full.Nodes, _full.Links.Where(l => !_down.Contains(l.Index)), Topology.Version + 1, _full.Source);
            Volatile.Write(ref _topology, next);
            int withdrawn = 0;
            foreach ((string leaseId, Steering steering) in _installed)
            {
                if (steering.Path.Links.Any(l => _down.Contains(l.Index)))
                {
                    await RemoveAsync(leaseId, cancellationToken).ConfigureAwait(false);
                    withdrawn++;
                }
            }
            _logger.LogInformation("topology {Source}: link {A}-{B} {State}; version {Version}; {Withdrawn} steered lanes withdrawn",
                _full.Source, a, b, up ? "up" : "down", next.Version, withdrawn);
            return (next.Version, withdrawn);
        }
        finally
        {
            _gate.Release();
        }
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
