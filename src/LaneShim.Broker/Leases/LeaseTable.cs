// LeaseTable.cs - the broker's in-memory leases: unguessable ids, TTL expiry, renew, release, latest applied settings.
using System.Security.Cryptography;
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Leases;

/// <summary>
/// Thread-safe lease table. Expired leases vanish: they are not listed, and renew/release/report on them find nothing.
/// Time comes from an injected <see cref="TimeProvider"/> so tests can move the clock.
/// </summary>
public sealed class LeaseTable
{
    /// <summary>The default bound on live leases (a misbehaving client must not grow the broker without limit).</summary>
    public const int DefaultCapacity = 65_536;

    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LeaseEntry> _leases = new(StringComparer.Ordinal);
    private DateTimeOffset _lastSweep = DateTimeOffset.MinValue;

    /// <summary>Creates an empty table.</summary>
    public LeaseTable(TimeProvider clock, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _clock = clock;
        Capacity = capacity;
    }

    /// <summary>The most live leases.</summary>
    public int Capacity { get; }

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
    /// Stores a new lease for <paramref name="ttl"/>, filling in the grant's lease id and expiry.
    /// Returns null when <see cref="Capacity"/> live leases already exist.
    /// </summary>
    public LeaseEntry? TryAdd(Flow flow, ProgramInfo program, LaneGrant grant, TimeSpan ttl, string? principal = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(grant);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);

        lock (_lock)
        {
            DateTimeOffset now = _clock.GetUtcNow();
            if (now - _lastSweep >= SweepInterval || _leases.Count >= Capacity)
            {
                Sweep(now);
            }

            if (_leases.Count >= Capacity)
            {
                return null;
            }

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
            var entry = new LeaseEntry(id, flow.Clone(), program.Clone(), stored, null, now, expires, ttl) { Principal = principal };
            _leases[id] = entry;
            return entry;
        }
    }

    /// <summary>The live lease with <paramref name="leaseId"/>, or null.</summary>
    public LeaseEntry? Find(string leaseId)
    {
        lock (_lock)
        {
            return FindLive(leaseId, _clock.GetUtcNow());
        }
    }

    /// <summary>Extends a live lease by its TTL from now; null when it expired or never existed.</summary>
    public LeaseEntry? Renew(string leaseId)
    {
        lock (_lock)
        {
            DateTimeOffset now = _clock.GetUtcNow();
            if (FindLive(leaseId, now) is not LeaseEntry entry)
            {
                return null;
            }

            DateTimeOffset expires = now + entry.Ttl;
            LaneGrant grant = entry.Grant.Clone();
            grant.ExpiresUnixMs = expires.ToUnixTimeMilliseconds();
            LeaseEntry renewed = entry with { Grant = grant, ExpiresAt = expires };
            _leases[leaseId] = renewed;
            return renewed;
        }
    }

    /// <summary>Removes a live lease and returns it; null when it expired or never existed.</summary>
    public LeaseEntry? Release(string leaseId)
    {
        lock (_lock)
        {
            if (FindLive(leaseId, _clock.GetUtcNow()) is not LeaseEntry entry)
            {
                return null;
            }

            _leases.Remove(leaseId);
            return entry;
        }
    }

    /// <summary>Records what the agent applied (null keeps the previous record); null when the lease is not live.</summary>
    public LeaseEntry? RecordApplied(string leaseId, SocketSettings? applied)
    {
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

            LeaseEntry updated = entry with { Applied = applied.Clone() };
            _leases[leaseId] = updated;
            return updated;
        }
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

    /// <summary>Drops expired leases now; returns how many.</summary>
    public int RemoveExpired()
    {
        lock (_lock)
        {
            return Sweep(_clock.GetUtcNow());
        }
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
            _leases.Remove(leaseId);
            return null;
        }

        return entry;
    }

    private int Sweep(DateTimeOffset now)
    {
        _lastSweep = now;
        List<string> expired = _leases.Where(e => e.Value.IsExpiredAt(now)).Select(e => e.Key).ToList();
        foreach (string id in expired)
        {
            _leases.Remove(id);
        }

        return expired.Count;
    }
}
