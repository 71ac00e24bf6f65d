// LeaseTable.cs - the broker's leases: in-memory index (the hot path), capacity admission, TTL expiry, durable store.
using System.Security.Cryptography;
using LaneShim.Broker.Storage;
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Leases;

/// <summary>
/// Thread-safe lease table. Expired leases vanish: they are not listed, and renew/release/report on them find nothing.
/// Time comes from an injected <see cref="TimeProvider"/> so tests can move the clock.
/// </summary>
/// <remarks>
/// Every lease reserves its granted rate on its <see cref="LeaseEntry.Links"/>; release and expiry give it back.
/// With a store this broker owns (memory, SQLite) the check and the reservation are one step under the table's lock
/// (<see cref="CapacityLedger"/>), then the store makes the lease durable before the grant returns. With a shared
/// store (PostgreSQL) the store decides admission across brokers. Expiry uses a queue ordered by expiry time, so a
/// sweep costs only the leases that expire, however many are live.
/// A per-flow lease is one connection's, whichever end asks: a request from the other end of a live per-flow lease's
/// connection (its mirrored 5-tuple) joins that lease as a second <see cref="LeaseHolder"/> instead of being admitted again.
/// </remarks>
public sealed class LeaseTable
{
    /// <summary>The default bound on live leases (a misbehaving client must not grow the broker without limit).</summary>
    public const int DefaultCapacity = 65_536;

    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(100);

    // A grant sweeps at most this many expired leases: under churn (short TTLs, thousands of grants a second) one sweep of
    // a whole second's expiries held the table's lock for tens of milliseconds and queued thousands of deletes at once.
    private const int SweepBatch = 256;

    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LeaseEntry> _leases = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, DateTimeOffset> _expiries = new();
    private readonly CapacityLedger _ledger = new();
    private readonly Dictionary<FlowKey, string> _byFlow = new();
    private DateTimeOffset _lastSweep = DateTimeOffset.MinValue;
    private bool _sweepBacklog;

    /// <summary>Creates an empty table over <paramref name="store"/> (null: memory only).</summary>
    public LeaseTable(TimeProvider clock, int capacity = DefaultCapacity, ILeaseStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _clock = clock;
        Capacity = capacity;
        Store = store ?? new MemoryLeaseStore();
    }

    /// <summary>The most live leases.</summary>
    public int Capacity { get; }

    /// <summary>Where leases are made durable.</summary>
    public ILeaseStore Store { get; }

    /// <summary>Live leases.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                Sweep(_clock.GetUtcNow());
                return _leases.Count;
            }
        }
    }

    /// <summary>16 random bytes from the OS CSPRNG, as 32 lower-case hex characters.</summary>
    public static string NewLeaseId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// Stores a new lease for <paramref name="ttl"/> without capacity admission, filling in the grant's lease id and
    /// expiry. Returns null when <see cref="Capacity"/> live leases already exist.
    /// </summary>
    public LeaseEntry? TryAdd(Flow flow, ProgramInfo program, LaneGrant grant, TimeSpan ttl, string? principal = null) =>
        TryGrantAsync(flow, program, grant, ttl, [], CancellationToken.None, principal).GetAwaiter().GetResult().Entry;

    /// <summary>
    /// Admits and stores a new lease: reserves the grant's rate on every link of <paramref name="links"/> or refuses
    /// with the tightest one, then makes it durable; the task completes after the store committed it.
    /// <paramref name="principal"/> is the mTLS identity of a remote caller (null for local callers).
    /// With a <paramref name="holder"/>, a flow that is the other end of a live per-flow lease's connection joins that
    /// lease (<see cref="LeaseGrantResult.Joined"/>): nothing is admitted or stored again, and the result carries the
    /// caller's <paramref name="grant"/> under the shared id, at most at the rate the lease was admitted at.
    /// </summary>
    public async Task<LeaseGrantResult> TryGrantAsync(Flow flow, ProgramInfo program, LaneGrant grant, TimeSpan ttl, IReadOnlyList<LinkDemand> links, CancellationToken cancellationToken, string? principal = null,
        LeaseHolder? holder = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(grant);
        ArgumentNullException.ThrowIfNull(links);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);

        LeaseEntry entry;
        lock (_lock)
        {
            DateTimeOffset now = _clock.GetUtcNow();
            if (_leases.Count >= Capacity)
            {
                Sweep(now);
            }
            else if (_sweepBacklog || now - _lastSweep >= SweepInterval)
            {
                _sweepBacklog = Sweep(now, SweepBatch) == SweepBatch;
            }

            if (holder is not null && TryJoin(flow, grant, holder, now) is LeaseGrantResult joined)
            {
                return joined;
            }

            if (_leases.Count >= Capacity)
            {
                return LeaseGrantResult.Full;
            }

            if (!Store.IsShared && links.Count > 0 && _ledger.TryReserve(links, grant.RateBps) is not null)
            {
                // Expired leases still hold their rate until swept: sweep and look again before refusing.
                Sweep(now);
                if (_ledger.TryReserve(links, grant.RateBps) is AdmissionRefusal refusal)
                {
                    return new LeaseGrantResult(null, refusal);
                }
            }

            entry = NewEntry(flow, program, grant, ttl, links, now, principal);
            entry = entry with { Holders = holder is null ? [] : [holder with { Grant = entry.Grant }] };
            if (!Store.IsShared)
            {
                Insert(entry, reserve: false);
            }
        }

        AdmissionRefusal? refused;
        try
        {
            refused = await Store.AddAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_lock)
            {
                Forget(entry.Id);
            }
            throw;
        }

        if (refused is not null)
        {
            return new LeaseGrantResult(null, refused);
        }

        if (Store.IsShared)
        {
            lock (_lock)
            {
                Insert(entry, reserve: false);
            }
        }
        return new LeaseGrantResult(entry, null);
    }

    /// <summary>Puts leases loaded from the store back (on start): they were admitted before, so they reserve without a check.</summary>
    public void Restore(IEnumerable<LeaseEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        lock (_lock)
        {
            foreach (LeaseEntry entry in entries)
            {
                Forget(entry.Id);
                Insert(entry, reserve: true);
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="count"/> made-up live leases (distinct 5-tuples, no links) for <paramref name="ttl"/>, through
    /// the store like real grants; for benchmarks of grants with many active leases. Returns the new lease ids.
    /// </summary>
    public async Task<IReadOnlyList<string>> PreloadAsync(int count, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var ids = new string[count];
        const int Chunk = 4096;
        for (int start = 0; start < count; start += Chunk)
        {
            int end = Math.Min(count, start + Chunk);
            var pending = new Task<LeaseGrantResult>[end - start];
            for (int i = start; i < end; i++)
            {
                var flow = new Flow
                {
                    Local = new Endpoint { Address = Google.Protobuf.ByteString.CopyFrom(10, 255, (byte)(i >> 16), (byte)(i >> 8)), Port = (uint)(1024 + (i & 0xff)) },
                    Remote = new Endpoint { Address = Google.Protobuf.ByteString.CopyFrom(192, 0, 2, 1), Port = 5201 },
                    Direction = Direction.Outbound,
                    Protocol = 6,
                };
                pending[i - start] = TryGrantAsync(flow, new ProgramInfo { Path = "/laneshim/preload" }, new LaneGrant { LaneClass = "preload", RateBps = 1_000_000 }, ttl, [], cancellationToken);
            }
            LeaseGrantResult[] results = await Task.WhenAll(pending).ConfigureAwait(false);
            for (int i = 0; i < results.Length; i++)
            {
                ids[start + i] = results[i].Entry?.Id ?? throw new InvalidOperationException($"preload stopped at {start + i}: the table holds its maximum of {Capacity} leases");
            }
        }
        return ids;
    }

    /// <summary>The live lease with <paramref name="leaseId"/>, or null.</summary>
    public LeaseEntry? Find(string leaseId)
    {
        lock (_lock)
        {
            return FindLive(leaseId, _clock.GetUtcNow());
        }
    }

    /// <summary>The live lease with <paramref name="leaseId"/> held by this broker or, with a shared store, by any broker; or null.</summary>
    public async Task<LeaseEntry?> FindAnywhereAsync(string leaseId, CancellationToken cancellationToken)
    {
        LeaseEntry? local = Find(leaseId);
        if (local is not null || !Store.IsShared)
        {
            return local;
        }
        return await Store.FindAsync(leaseId, _clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Extends a live lease by its TTL from now; null when it expired or never existed.</summary>
    public LeaseEntry? Renew(string leaseId) => RenewAsync(leaseId, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Extends a live lease by its TTL from now and stores it; null when it expired or never existed (on any broker of a shared store).</summary>
    public async Task<LeaseEntry?> RenewAsync(string leaseId, CancellationToken cancellationToken)
    {
        LeaseEntry? renewed;
        DateTimeOffset now = _clock.GetUtcNow();
        LeaseEntry? stored = Store.IsShared ? await Store.FindAsync(leaseId, now, cancellationToken).ConfigureAwait(false) : null;
        if (Store.IsShared && stored is null)
        {
            // Another broker released it (or it expired there): this broker's copy is stale.
            lock (_lock)
            {
                Forget(leaseId);
            }
            return null;
        }

        lock (_lock)
        {
            renewed = FindLive(leaseId, now) is LeaseEntry entry ? Extend(entry, now) : null;
            if (renewed is not null)
            {
                _leases[leaseId] = renewed;
                _expiries.Enqueue(leaseId, renewed.ExpiresAt);
            }
        }

        if (renewed is null && stored is not null)
        {
            // Granted by another broker sharing the store.
            renewed = Extend(stored, now);
        }

        if (renewed is not null)
        {
            await Store.UpdateAsync(renewed, cancellationToken).ConfigureAwait(false);
        }
        return renewed;
    }

    /// <summary>Removes a live lease and returns it; null when it expired or never existed.</summary>
    public LeaseEntry? Release(string leaseId) => ReleaseAsync(leaseId, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Removes a live lease, gives its rate back and forgets it in the store; null when it expired or never existed.</summary>
    public async Task<LeaseEntry?> ReleaseAsync(string leaseId, CancellationToken cancellationToken)
    {
        LeaseEntry? released;
        DateTimeOffset now = _clock.GetUtcNow();
        lock (_lock)
        {
            released = FindLive(leaseId, now);
            if (released is not null)
            {
                Forget(leaseId);
            }
        }

        if (released is null && Store.IsShared)
        {
            released = await Store.FindAsync(leaseId, now, cancellationToken).ConfigureAwait(false);
        }

        if (released is not null)
        {
            await Store.RemoveAsync(leaseId, cancellationToken).ConfigureAwait(false);
        }
        return released;
    }

    /// <summary>
    /// Marks holder <paramref name="index"/> of a live lease released and/or ended (never un-marks either). Returns the
    /// updated lease, or null when it is not live here or has no such holder.
    /// </summary>
    public LeaseEntry? UpdateHolder(string leaseId, int index, bool released, bool ended)
    {
        lock (_lock)
        {
            if (FindLive(leaseId, _clock.GetUtcNow()) is not LeaseEntry entry || index < 0 || index >= entry.Holders.Count)
            {
                return null;
            }
            LeaseHolder old = entry.Holders[index];
            if ((old.Released || !released) && (old.Ended || !ended))
            {
                return entry;
            }
            LeaseHolder[] holders = [.. entry.Holders];
            holders[index] = old with { Released = old.Released || released, Ended = old.Ended || ended };
            LeaseEntry updated = entry with { Holders = holders };
            _leases[leaseId] = updated;
            return updated;
        }
    }

    /// <summary>Records what the agent applied (null keeps the previous record); null when the lease is not live.</summary>
    public LeaseEntry? RecordApplied(string leaseId, SocketSettings? applied)
    {
        LeaseEntry? updated;
        lock (_lock)
        {
            if (FindLive(leaseId, _clock.GetUtcNow()) is not LeaseEntry entry)
            {
                return null;
            }

            if (applied is null)
            {
                return entry;
            }

            updated = entry with { Applied = applied.Clone() };
            _leases[leaseId] = updated;
        }
        // What was applied is a report, not a promise: it is stored with the next group commit, unawaited.
        _ = Store.UpdateAsync(updated, CancellationToken.None);
        return updated;
    }

    /// <summary>The live leases, oldest grant first.</summary>
    public IReadOnlyList<LeaseEntry> List()
    {
        lock (_lock)
        {
            Sweep(_clock.GetUtcNow());
            return _leases.Values.OrderBy(e => e.GrantedAt).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>The rate live leases hold on each link key (this broker's leases).</summary>
    public IReadOnlyDictionary<string, ulong> LinkUsage()
    {
        lock (_lock)
        {
            Sweep(_clock.GetUtcNow());
            return _ledger.Snapshot();
        }
    }

    /// <summary>Expiries waiting to be swept (test seam: a grant sweeps a bounded batch of them).</summary>
    internal int PendingExpiries
    {
        get
        {
            lock (_lock)
            {
                return _expiries.Count;
            }
        }
    }

    /// <summary>Drops expired leases now; returns how many.</summary>
    public int RemoveExpired()
    {
        lock (_lock)
        {
            return Sweep(_clock.GetUtcNow());
        }
    }

    private LeaseEntry NewEntry(Flow flow, ProgramInfo program, LaneGrant grant, TimeSpan ttl, IReadOnlyList<LinkDemand> links, DateTimeOffset now, string? principal)
    {
        string id;
        do
        {
            id = NewLeaseId();
        }
        while (_leases.ContainsKey(id));

        DateTimeOffset expires = now + ttl;
        LaneGrant stored = grant.Clone();
        stored.LeaseId = id;
        stored.ExpiresUnixMs = expires.ToUnixTimeMilliseconds();
        return new LeaseEntry(id, flow.Clone(), program.Clone(), stored, null, now, expires, ttl) { Links = links.ToArray(), Principal = principal };
    }

    private static LeaseEntry Extend(LeaseEntry entry, DateTimeOffset now)
    {
        DateTimeOffset expires = now + entry.Ttl;
        LaneGrant grant = entry.Grant.Clone();
        grant.ExpiresUnixMs = expires.ToUnixTimeMilliseconds();
        return entry with { Grant = grant, ExpiresAt = expires };
    }

    // Callers hold _lock. Admission reserved the rate already; restored leases reserve it here.
    private void Insert(LeaseEntry entry, bool reserve)
    {
        if (reserve && !Store.IsShared)
        {
            _ledger.Reserve(entry.Links, entry.Grant.RateBps);
        }
        _leases[entry.Id] = entry;
        _expiries.Enqueue(entry.Id, entry.ExpiresAt);
        if (FlowKey.Of(entry.Flow) is FlowKey key)
        {
            _byFlow[key] = entry.Id; // the newest lease of a 5-tuple is the one its other end may join
        }
    }

    // Callers hold _lock: removes a lease and gives its rate back.
    private void Forget(string leaseId)
    {
        if (_leases.Remove(leaseId, out LeaseEntry? entry))
        {
            if (!Store.IsShared)
            {
                _ledger.Release(entry.Links, entry.Grant.RateBps);
            }
            if (FlowKey.Of(entry.Flow) is FlowKey key && _byFlow.TryGetValue(key, out string? indexed) && indexed == leaseId)
            {
                _byFlow.Remove(key);
            }
        }
    }

    // Callers hold _lock. The other end of a live per-flow lease's connection joins it: the lease holds rules or capacity
    // for this one connection, an end of the opposite direction still holds it, and no live holder is on the caller's
    // side (that would be a new connection reusing the 5-tuple, which gets its own lease).
    private LeaseGrantResult? TryJoin(Flow flow, LaneGrant grant, LeaseHolder holder, DateTimeOffset now)
    {
        if (FlowKey.Of(flow) is not FlowKey key || !_byFlow.TryGetValue(key, out string? id) || FindLive(id, now) is not LeaseEntry existing
            || !existing.Grant.PerFlow
            || !existing.Holders.Any(h => !h.Ended && h.Direction != flow.Direction)
            || existing.Holders.Any(h => !h.Ended && h.Direction == flow.Direction))
        {
            return null;
        }
        LaneGrant own = grant.Clone();
        own.LeaseId = id;
        own.ExpiresUnixMs = existing.Grant.ExpiresUnixMs;
        own.PerFlow = true;
        own.PathId = existing.Grant.PathId;
        own.TopologyVersion = existing.Grant.TopologyVersion;
        if (existing.Links.Count > 0 && own.RateBps > existing.Grant.RateBps)
        {
            // One flow, one admission: this end paces at most at the rate the lease reserved.
            own.RateBps = existing.Grant.RateBps;
            own.PacingRate = existing.Grant.PacingRate is > 0 and var p ? Math.Min(own.PacingRate == 0 ? p : own.PacingRate, p) : own.PacingRate;
            own.Reason += $"; capped at the lease's admitted {LaneShim.Core.Units.FormatRate(existing.Grant.RateBps)}";
        }
        own.Reason += "; joins the lease of this connection's other end";
        LeaseEntry joined = existing with { Holders = [.. existing.Holders, holder with { Grant = own }] };
        _leases[id] = joined;
        return new LeaseGrantResult(joined with { Grant = own }, null) { Joined = true, Holder = joined.Holders.Count - 1 };
    }

    private LeaseEntry? FindLive(string leaseId, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(leaseId);
        if (!_leases.TryGetValue(leaseId, out LeaseEntry? entry))
        {
            return null;
        }

        if (entry.IsExpiredAt(now))
        {
            Expire(entry);
            return null;
        }

        return entry;
    }

    private int Sweep(DateTimeOffset now, int max = int.MaxValue)
    {
        _lastSweep = now;
        int removed = 0;
        while (removed < max && _expiries.TryPeek(out string? id, out DateTimeOffset at) && at <= now)
        {
            _expiries.Dequeue();
            // A renewed lease left its older expiry in the queue: only the current one counts.
            if (_leases.TryGetValue(id, out LeaseEntry? entry) && entry.IsExpiredAt(now))
            {
                Expire(entry);
                removed++;
            }
        }
        return removed;
    }

    private void Expire(LeaseEntry entry)
    {
        Forget(entry.Id);
        // The store forgets it with the next group commit; a crash before that is harmless (loading drops expired leases).
        // A shared store does network I/O: not under the table's lock.
        string id = entry.Id;
        _ = Store.IsShared ? Task.Run(() => Store.RemoveAsync(id, CancellationToken.None)) : Store.RemoveAsync(id, CancellationToken.None);
    }
}
