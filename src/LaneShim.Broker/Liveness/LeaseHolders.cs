// LeaseHolders.cs - when a lease ends: when every end of its connection is gone, as the kernel says, not when one process lets go.
using System.Collections.Concurrent;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Paths;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Liveness;

/// <summary>
/// Ends leases. A per-flow lease is held by each end of its connection that asked (<see cref="LeaseEntry.Holders"/>);
/// the broker watches each holder's socket in the kernel (<see cref="ConnectionWatcher"/>) from its grant on. A
/// ReleaseLane only says that one process closed its last descriptor: a forked child, a process the descriptor was
/// passed to (SCM_RIGHTS) or the program an inherited descriptor survived exec into may still use the connection, so
/// a watched holder ends when the kernel says its connection is gone, and the lease with its last holder. A holder
/// the broker cannot watch (no socket proof, no access to its namespace) ends at its release, as before. While the
/// kernel shows a watched connection held, the lease is renewed here, whoever holds it: a lane lives as long as its
/// connection; the lease TTL ends it only when nothing can be watched.
/// </summary>
public sealed class LeaseHolders
{
    private readonly LeaseTable _leases;
    private readonly PathService? _paths;
    private readonly ConnectionWatcher? _watcher;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<HolderKey, WatchedSocket> _watched = new();
    private readonly ConcurrentDictionary<string, FlowStats> _senders = new(StringComparer.Ordinal); // per lease: the end that sent most, so far
    private long _lastPurge;

    /// <summary>Ends leases of <paramref name="leases"/> (and their steering in <paramref name="paths"/>); watches through <paramref name="watcher"/> when given.</summary>
    public LeaseHolders(LeaseTable leases, PathService? paths, ConnectionWatcher? watcher, ILogger logger, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(leases);
        ArgumentNullException.ThrowIfNull(logger);
        _leases = leases;
        _paths = paths;
        _watcher = watcher;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        if (watcher is not null)
        {
            watcher.Gone += OnGone;
            watcher.Unwatchable += OnUnwatchable;
            watcher.Held += OnHeld;
        }
    }

    /// <summary>
    /// A lease ended because its holders are gone or released (not withdrawn, not expired), with the final statistics
    /// of the end that sent most (of a download, the server's).
    /// </summary>
    public event Action<LeaseEntry, FlowStats?>? Ended;

    /// <summary>Holders watched in the kernel now.</summary>
    public int Watched => _watched.Count;

    /// <summary>
    /// Watches holder <paramref name="holder"/> of a per-flow lease through the broker's duplicate of its socket, whose
    /// flow the holder asked for as <paramref name="flow"/>. Returns "kernel" when watched, else why not (the holder then
    /// ends at its release).
    /// </summary>
    public string Attach(LeaseEntry entry, int holder, int socketFd, Flow? flow = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (_watcher is null)
        {
            return "not watched: the broker runs without a connection watcher";
        }
        var key = new HolderKey(entry.Id, holder);
        if (_watcher.Watch(socketFd, key, out string failure, EndPoint(flow?.Local), EndPoint(flow?.Remote)) is not WatchedSocket socket)
        {
            _logger.LogDebug("lease {Lease} holder {Holder}: not watched: {Failure}", Short(entry.Id), holder, failure);
            return "not watched: " + failure;
        }
        _watched[key] = socket;
        return "kernel";
    }

    /// <summary>
    /// The release of one holder: the caller's (by <paramref name="pid"/>, else the first it <paramref name="owns"/>).
    /// The lease ends now when no holder is left; a watched holder only counts as gone once the kernel says so.
    /// Returns the lease as it is now and whether it ended.
    /// </summary>
    public async Task<(LeaseEntry Entry, bool Ended)> ReleaseAsync(LeaseEntry entry, int pid, Func<LeaseHolder, bool> owns, FlowStats? stats)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(owns);
        if (entry.Holders.Count == 0)
        {
            // Restored from the store or granted by another broker: one holder, unwatched.
            LeaseEntry? ended = await EndAsync(entry.Id, stats, report: true).ConfigureAwait(false);
            return (ended ?? entry, true);
        }
        int index = Pick(entry.Holders, pid, owns);
        if (index < 0)
        {
            return (entry, false); // every holder released already: the kernel decides the rest
        }
        var key = new HolderKey(entry.Id, index);
        bool watched = _watched.TryGetValue(key, out WatchedSocket? socket);
        LeaseEntry? updated = _leases.UpdateHolder(entry.Id, index, released: true, ended: !watched);
        if (updated is null)
        {
            return (entry, true); // expired meanwhile
        }
        if (watched)
        {
            _watcher!.Released(socket!, stats);
            return (updated, false);
        }
        Sender(entry.Id, stats);
        if (updated.Holders.All(h => h.Ended))
        {
            LeaseEntry? ended = await EndAsync(entry.Id, stats, report: true).ConfigureAwait(false);
            return (ended ?? updated, true);
        }
        return (updated, false);
    }

    /// <summary>
    /// A holder whose grant never reached it (its deadline passed before the broker finished): it leaves, and the
    /// lease goes with it unless the connection's other end still holds it.
    /// </summary>
    public async Task WithdrawAsync(LeaseEntry entry, int holder)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (_watched.TryRemove(new HolderKey(entry.Id, holder), out WatchedSocket? socket))
        {
            _watcher?.Unwatch(socket);
        }
        LeaseEntry? updated = _leases.UpdateHolder(entry.Id, holder, released: true, ended: true);
        if (updated is null || updated.Holders.All(h => h.Ended))
        {
            await EndAsync(entry.Id, null, report: false).ConfigureAwait(false);
        }
    }

    // The caller's own holder: the one its pid asked for, else one it owns, else (root, in-process) any still open.
    private static int Pick(IReadOnlyList<LeaseHolder> holders, int pid, Func<LeaseHolder, bool> owns)
    {
        int owned = -1, open = -1;
        for (int i = 0; i < holders.Count; i++)
        {
            LeaseHolder h = holders[i];
            if (h.Released || h.Ended)
            {
                continue;
            }
            if (pid > 0 && h.Pid == pid)
            {
                return i;
            }
            if (owned < 0 && owns(h))
            {
                owned = i;
            }
            if (open < 0)
            {
                open = i;
            }
        }
        return owned >= 0 ? owned : open;
    }

    // Keeps the statistics of the end that sent most; returns them.
    private FlowStats? Sender(string id, FlowStats? stats)
    {
        if (stats is null)
        {
            return _senders.TryGetValue(id, out FlowStats? known) ? known : null;
        }
        return _senders.AddOrUpdate(id, stats, (_, known) => stats.BytesAcked >= known.BytesAcked ? stats : known);
    }

    private async Task<LeaseEntry?> EndAsync(string id, FlowStats? stats, bool report)
    {
        stats = Sender(id, stats);
        _senders.TryRemove(id, out _);
        LeaseEntry? ended = await _leases.ReleaseAsync(id, CancellationToken.None).ConfigureAwait(false);
        foreach (HolderKey key in _watched.Keys.Where(k => k.LeaseId == id))
        {
            if (_watched.TryRemove(key, out WatchedSocket? socket))
            {
                _watcher?.Unwatch(socket);
            }
        }
        if (ended is null)
        {
            return null;
        }
        if (_paths is not null)
        {
            // Not awaited: a releasing caller is inside close(), and removing rules waits for the kernel's grace period.
            _ = Task.Run(() => _paths.RemoveAsync(id, CancellationToken.None));
        }
        if (report)
        {
            Ended?.Invoke(ended, stats);
        }
        return ended;
    }

    // The watcher's thread: hand the work to the pool at once.
    private void OnGone(WatchedSocket socket, FlowStats? stats, string how)
    {
        if (socket.Owner is not HolderKey key || !_watched.TryRemove(key, out _))
        {
            return;
        }
        LeaseEntry? updated = _leases.UpdateHolder(key.LeaseId, key.Holder, released: false, ended: true);
        if (updated is null)
        {
            return; // ended or expired meanwhile
        }
        Sender(key.LeaseId, stats);
        if (updated.Holders.All(h => h.Ended))
        {
            _logger.LogDebug("lease {Lease}: holder {Holder}'s connection {How} ({Socket}); no holder left, the lease ends", Short(key.LeaseId), key.Holder, how, socket);
            _ = Task.Run(() => EndAsync(key.LeaseId, stats, report: true));
        }
        else
        {
            _logger.LogDebug("lease {Lease}: holder {Holder}'s connection {How} ({Socket}); the other end still holds it", Short(key.LeaseId), key.Holder, how, socket);
        }
    }

    // Its namespace cannot be entered: the holder is unwatched from now on, so its release (if it came already) ends it.
    private void OnUnwatchable(WatchedSocket socket, string why)
    {
        if (socket.Owner is not HolderKey key || !_watched.TryRemove(key, out _) || !socket.Released)
        {
            return;
        }
        if (_leases.UpdateHolder(key.LeaseId, key.Holder, released: true, ended: true) is { } updated && updated.Holders.All(h => h.Ended))
        {
            _ = Task.Run(() => EndAsync(key.LeaseId, socket.LastStats, report: true));
        }
    }

    // Connections the kernel shows held keep their leases (and rules) alive; watches of leases that expired are dropped.
    private void OnHeld(IReadOnlyList<WatchedSocket> held)
    {
        DateTimeOffset now = _clock.GetUtcNow();
        foreach (string id in held.Select(s => s.Owner).OfType<HolderKey>().Select(k => k.LeaseId).Distinct())
        {
            if (_leases.Find(id) is LeaseEntry entry && entry.ExpiresAt - now < RenewWithin(entry.Ttl))
            {
                _ = Task.Run(() => RenewAsync(id));
            }
        }
        long ticks = Environment.TickCount64;
        if (ticks - Interlocked.Read(ref _lastPurge) >= ConnectionWatcher.CheckInterval.TotalMilliseconds)
        {
            Interlocked.Exchange(ref _lastPurge, ticks);
            foreach (HolderKey key in _watched.Keys)
            {
                if (_leases.Find(key.LeaseId) is null && _watched.TryRemove(key, out WatchedSocket? socket))
                {
                    _watcher?.Unwatch(socket);
                }
            }
            foreach (string id in _senders.Keys)
            {
                if (_leases.Find(id) is null)
                {
                    _senders.TryRemove(id, out _);
                }
            }
        }
    }

    // Later than an agent renews (at half the remaining time), early enough for the next check to be in time.
    private static TimeSpan RenewWithin(TimeSpan ttl) => TimeSpan.FromTicks(Math.Max(ttl.Ticks / 3, (ConnectionWatcher.CheckInterval * 2.5).Ticks));

    private async Task RenewAsync(string id)
    {
        try
        {
            if (await _leases.RenewAsync(id, CancellationToken.None).ConfigureAwait(false) is LeaseEntry renewed)
            {
                if (_paths is not null)
                {
                    await _paths.RenewAsync(id, renewed.Ttl, CancellationToken.None).ConfigureAwait(false);
                }
                _logger.LogDebug("lease {Lease}: renewed until {Expires:O}: its connection is still held", Short(id), renewed.ExpiresAt);
            }
        }
        catch (Exception e)
        {
            _logger.LogWarning("lease {Lease}: renewing a held connection's lease failed: {Error}", Short(id), e.Message);
        }
    }

    private static string Short(string id) => id.Length > 8 ? id[..8] + "…" : id;

    private static System.Net.IPEndPoint? EndPoint(Endpoint? endpoint) =>
        endpoint is { Address.Length: 4 or 16, Port: > 0 and <= 65535 } e ? new System.Net.IPEndPoint(new System.Net.IPAddress(e.Address.Span), (int)e.Port) : null;
}
