// LeaseRenewer.cs - keeps the leases of live flows alive: renews each at about half its TTL, on the agent's service thread.
using Grpc.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>
/// Tracks the leases open sockets use (a shared grant's lease counts once per socket using it) and renews each
/// when half of its remaining time has passed, so a connection that outlives its TTL keeps its lane. Nothing here
/// runs on the connect or close path: <see cref="Track"/> and <see cref="Untrack"/> only touch a dictionary, and
/// <see cref="RenewDue"/> runs on the agent's one service thread (<see cref="AgentRuntime.Serve"/>).
/// A lease the broker no longer knows (NOT_FOUND) is dropped and reported through <see cref="Lost"/>; a broker that
/// does not answer is retried at the next tick, while the lease still has time.
/// </summary>
internal sealed class LeaseRenewer
{
    /// <summary>How often the service thread looks for leases due.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxDeadline = TimeSpan.FromSeconds(2);
    private readonly BrokerChannel _client;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Tracked> _leases = new(StringComparer.Ordinal);

    public LeaseRenewer(BrokerChannel client) => _client = client;

    /// <summary>Called with a lease id the broker has forgotten, so no new flow uses its grant.</summary>
    public Action<string>? Lost { get; set; }

    /// <summary>Called with a lease id and its new expiry after each renewal.</summary>
    public Action<string, long>? Renewed { get; set; }

    /// <summary>Leases tracked now (for logs and tests).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _leases.Count;
            }
        }
    }

    /// <summary>One more socket uses <paramref name="grant"/>'s lease.</summary>
    public void Track(LaneGrant grant)
    {
        if (string.IsNullOrEmpty(grant.LeaseId) || grant.ExpiresUnixMs <= 0)
        {
            return;
        }
        lock (_lock)
        {
            if (_leases.TryGetValue(grant.LeaseId, out Tracked? t))
            {
                t.Users++;
                return;
            }
            long now = NowMs();
            _leases[grant.LeaseId] = new Tracked { Users = 1, ExpiresMs = grant.ExpiresUnixMs, DueMs = Due(now, grant.ExpiresUnixMs) };
        }
    }

    /// <summary>A socket using the lease closed; the last one stops its renewal.</summary>
    public void Untrack(string leaseId)
    {
        lock (_lock)
        {
            if (_leases.TryGetValue(leaseId, out Tracked? t) && --t.Users <= 0)
            {
                _leases.Remove(leaseId);
            }
        }
    }

    // Half of what is left: a 10 s lease renews at 5 s, and a late renewal still leaves room for one retry.
    private static long Due(long now, long expires) => now + Math.Max(0, (expires - now) / 2);

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Renews every lease that is due now (called by the service thread every <see cref="Tick"/>).</summary>
    public void RenewDue()
    {
        List<(string Id, long ExpiresMs)> due;
        long now = NowMs();
        lock (_lock)
        {
            if (_leases.Count == 0)
            {
                return;
            }
            due = _leases.Where(e => e.Value.DueMs <= now).Select(e => (e.Key, e.Value.ExpiresMs)).ToList();
        }
        foreach ((string id, long expires) in due)
        {
            RenewOne(id, expires);
        }
    }

    private void RenewOne(string id, long expires)
    {
        long now = NowMs();
        // Never wait past the point where a retry could still save the lease.
        var deadline = TimeSpan.FromMilliseconds(Math.Clamp((expires - now) / 4, 20, (long)MaxDeadline.TotalMilliseconds));
        try
        {
            var renew = new RenewRequest { LeaseId = id };
            LaneGrant renewed = _client.Call((c, o) => c.RenewLane(renew, o), deadline);
            lock (_lock)
            {
                if (_leases.TryGetValue(id, out Tracked? t))
                {
                    t.ExpiresMs = renewed.ExpiresUnixMs;
                    t.DueMs = Due(NowMs(), renewed.ExpiresUnixMs);
                }
            }
            Renewed?.Invoke(id, renewed.ExpiresUnixMs);
            AgentLog.Debug($"lease {id[..Math.Min(8, id.Length)]} renewed until {renewed.ExpiresUnixMs}");
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            lock (_lock)
            {
                _leases.Remove(id);
            }
            AgentLog.Info($"lease {id[..Math.Min(8, id.Length)]} is gone at the broker ({e.Status.Detail}); its flows keep their settings without a lease");
            Lost?.Invoke(id);
        }
        catch (Exception e)
        {
            AgentLog.Debug($"renewal of lease {id[..Math.Min(8, id.Length)]} failed ({e.Message}); retrying");
        }
    }

    private sealed class Tracked
    {
        public int Users;
        public long ExpiresMs;
        public long DueMs;
    }
}
