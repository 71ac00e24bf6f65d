// LinuxRouterBackend.cs - programs Linux routers (network namespaces) with nftables set elements that carry a timeout.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Enforcement;

/// <summary>
/// Each router runs table <c>inet laneshim</c> with set <c>lanes4</c> (saddr . sport . daddr . dport, flags timeout)
/// and a prerouting rule that marks members with the fwmark its policy routing sends over the lane link
/// (`laneshim-lab lab up` creates both). A rule is one set element with the lease's TTL (plus a grace period) as its
/// kernel timeout, so the kernel drops it even if the broker dies; release deletes it at once. Each router gets
/// one atomic netlink batch over a socket opened once inside its namespace.
/// </summary>
public sealed class LinuxRouterBackend(ILogger<LinuxRouterBackend> logger) : IEnforcementBackend, IDisposable
{
    /// <summary>The nftables table and set every router carries.</summary>
    public const string Table = "laneshim", Set = "lanes4";

    private const int EEXIST = 17;
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, NftSetSocket> _sockets = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public string Name => "linux-router";

    /// <inheritdoc/>
    public Task InstallAsync(Steering steering, CancellationToken cancellationToken) => Apply(steering, add: true, fresh: true);

    /// <inheritdoc/>
    public Task RenewAsync(Steering steering, CancellationToken cancellationToken) => Apply(steering, add: true, fresh: false);

    /// <inheritdoc/>
    public Task RemoveAsync(Steering steering, CancellationToken cancellationToken) => Apply(steering, add: false, fresh: false);

    /// <summary>
    /// The changes for one router. A fresh install is one exclusive add per element: the fast path, because a
    /// batch that deletes waits for an RCU grace period (about 10 ms here). Otherwise (renew, remove, or an
    /// install that met an element left by an earlier flow with the same 5-tuple), every change starts with
    /// add-then-delete, since adding an element that exists is a no-op and deleting one that does not aborts the
    /// batch: the batch is idempotent and refreshes the timeout.
    /// </summary>
    internal static List<NftSetSocket.Change> Changes(IEnumerable<SteeringRule> rules, bool add, TimeSpan ttl, bool fresh = false)
    {
        ulong timeoutMs = (ulong)Math.Max(1000, Math.Ceiling(ttl.TotalMilliseconds));
        var changes = new List<NftSetSocket.Change>();
        foreach (SteeringRule r in rules)
        {
            if (r.Source.AddressFamily != AddressFamily.InterNetwork || r.Destination.AddressFamily != AddressFamily.InterNetwork)
            {
                throw new EnforcementException($"{r.Router}: only IPv4 flows can be steered by the Linux-router backend ({r})");
            }
            byte[] key = NftSetSocket.Ipv4FlowKey(r.Source.GetAddressBytes(), r.SourcePort, r.Destination.GetAddressBytes(), r.DestinationPort);
            if (add && fresh)
            {
                changes.Add(new NftSetSocket.Change(key, Delete: false, timeoutMs, Exclusive: true));
                continue;
            }
            changes.Add(new NftSetSocket.Change(key, Delete: false, timeoutMs));
            changes.Add(new NftSetSocket.Change(key, Delete: true, 0));
            if (add)
            {
                changes.Add(new NftSetSocket.Change(key, Delete: false, timeoutMs));
            }
        }
        return changes;
    }

    private Task Apply(Steering steering, bool add, bool fresh)
    {
        var sw = Stopwatch.StartNew();
        var done = new List<(string Router, string? Netns, List<NftSetSocket.Change> Changes)>();
        try
        {
            foreach (IGrouping<(string Router, string? Netns), SteeringRule> router in steering.Rules.GroupBy(r => (r.Router, r.Netns)))
            {
                List<NftSetSocket.Change> changes = Changes(router, add, steering.Ttl + Grace, fresh);
                try
                {
                    Program(router.Key.Router, router.Key.Netns, changes);
                }
                catch (EnforcementException e) when (fresh && e.Errno == EEXIST)
                {
                    changes = Changes(router, add, steering.Ttl + Grace, fresh: false);
                    Program(router.Key.Router, router.Key.Netns, changes);
                }
                done.Add((router.Key.Router, router.Key.Netns, changes));
            }
        }
        catch (EnforcementException) when (add)
        {
            // Leave no half-installed lane: take back what went in.
            foreach ((string router, string? netns, _) in done)
            {
                TryProgram(router, netns, Changes(steering.Rules.Where(r => r.Router == router), add: false, steering.Ttl));
            }
            throw;
        }
        logger.LogDebug("{Verb} {Count} rules for lease {Lease} in {Us:0} us", add ? "installed" : "removed", steering.Rules.Count,
            steering.LeaseId[..Math.Min(8, steering.LeaseId.Length)], sw.Elapsed.TotalMicroseconds);
        return Task.CompletedTask;
    }

    private void Program(string router, string? netns, IReadOnlyList<NftSetSocket.Change> changes)
    {
        string key = netns ?? "";
        for (int attempt = 0; ; attempt++)
        {
            NftSetSocket socket;
            try
            {
                socket = _sockets.GetOrAdd(key, _ => NftSetSocket.Open(netns, Table, Set));
            }
            catch (EnforcementException e)
            {
                throw new EnforcementException($"router {router}: {e.Message}");
            }
            try
            {
                socket.Apply(changes);
                return;
            }
            catch (Exception e) when (e is EnforcementException { Errno: 0 } or ObjectDisposedException)
            {
                // The namespace may have been recreated since the socket was opened: try once with a fresh one.
                if (_sockets.TryRemove(new KeyValuePair<string, NftSetSocket>(key, socket)))
                {
                    socket.Dispose();
                }
                if (attempt > 0)
                {
                    throw new EnforcementException($"router {router}{(netns is null ? "" : $" (netns {netns})")}: {e.Message}");
                }
            }
        }
    }

    /// <summary>
    /// One atomic batch per router: flush the set, then add every live rule at that router with its remaining
    /// lifetime. Packets never see a half-reconciled set, and elements of leases that ended while the broker was
    /// down (or that nobody knows) are gone.
    /// </summary>
    public Task ReconcileAsync(IReadOnlyCollection<(string Router, string? Netns)> routers, IReadOnlyList<Steering> live, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach ((string router, string? netns) in routers)
        {
            var changes = new List<NftSetSocket.Change> { new([], Delete: true, 0) };
            foreach (Steering steering in live)
            {
                List<SteeringRule> here = steering.Rules.Where(r => r.Router == router).ToList();
                if (here.Count > 0)
                {
                    changes.AddRange(Changes(here, add: true, steering.Ttl + Grace, fresh: true).Select(c => c with { Exclusive = false }));
                }
            }
            try
            {
                Program(router, netns, changes);
                logger.LogInformation("router {Router}: reconciled to {Count} rules", router, changes.Count - 1);
            }
            catch (EnforcementException e)
            {
                // One unreachable router must not leave the others unreconciled.
                failures.Add(e.Message);
            }
        }
        return failures.Count == 0 ? Task.CompletedTask : Task.FromException(new EnforcementException(string.Join("; ", failures)));
    }

    /// <summary>Opens each router's socket and runs an empty batch through it, so the first lane finds both ready.</summary>
    public void Prepare(IEnumerable<(string Router, string? Netns)> routers)
    {
        foreach ((string router, string? netns) in routers)
        {
            try
            {
                Program(router, netns, []);
            }
            catch (EnforcementException e)
            {
                logger.LogWarning("router {Router} is not ready for lanes yet: {Error}", router, e.Message);
            }
        }
    }

    private void TryProgram(string router, string? netns, IReadOnlyList<NftSetSocket.Change> changes)
    {
        try
        {
            Program(router, netns, changes);
        }
        catch (EnforcementException e)
        {
            logger.LogWarning("undoing a partial install on {Router}: {Error}; the rules expire with their timeout", router, e.Message);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (NftSetSocket s in _sockets.Values)
        {
            s.Dispose();
        }
        _sockets.Clear();
    }
}
