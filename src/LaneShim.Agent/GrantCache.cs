// GrantCache.cs - grants the agent already holds, so repeat connects to one destination pay no round trip.
using System.Collections.Concurrent;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>Grants by destination, valid until a little before their lease expires.</summary>
internal sealed class GrantCache
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<GrantKey, LaneGrant> _grants = new();
    private readonly TimeProvider _clock;

    public GrantCache(TimeProvider clock) => _clock = clock;

    public bool TryGet(GrantKey key, out LaneGrant grant)
    {
        if (_grants.TryGetValue(key, out LaneGrant? g) && _clock.GetUtcNow().ToUnixTimeMilliseconds() + (long)Margin.TotalMilliseconds < g.ExpiresUnixMs)
        {
            grant = g;
            return true;
        }
        grant = null!;
        return false;
    }

    /// <summary>A renewed lease's grants stay usable until its new expiry.</summary>
    public void ExtendLease(string leaseId, long expiresUnixMs)
    {
        foreach (var (key, grant) in _grants)
        {
            if (grant.LeaseId == leaseId && grant.ExpiresUnixMs < expiresUnixMs)
            {
                LaneGrant extended = grant.Clone();
                extended.ExpiresUnixMs = expiresUnixMs;
                _grants.TryUpdate(key, extended, grant);
            }
        }
    }

    /// <summary>Forgets every grant of a lease the broker no longer knows.</summary>
    public void RemoveLease(string leaseId)
    {
        foreach (var (key, grant) in _grants)
        {
            if (grant.LeaseId == leaseId)
            {
                _grants.TryRemove(key, out _);
            }
        }
    }

    public void Put(GrantKey key, LaneGrant grant)
    {
        if (_grants.Count > 4096)
        {
            _grants.Clear(); // a bound, not an LRU: a process with that many destinations pays a round trip each
        }
        _grants[key] = grant;
    }
}
