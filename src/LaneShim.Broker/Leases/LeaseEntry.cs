// LeaseEntry.cs - one granted lane as the broker remembers it: the flow, the program, the grant and what was applied.
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Leases;

/// <summary>
/// A snapshot of one lease. The table stores private copies of the messages; treat them as read-only
/// and use <see cref="ToProto"/> (a deep copy) to hand one out.
/// </summary>
/// <param name="Id">32 lower-case hex characters (16 random bytes): knowing it is what lets a caller renew or release.</param>
/// <param name="Flow">The flow as requested.</param>
/// <param name="Program">The program, with uid/gid/pid from the kernel when the caller came over a Unix socket.</param>
/// <param name="Grant">The grant, with <see cref="LaneGrant.LeaseId"/> and <see cref="LaneGrant.ExpiresUnixMs"/> filled in.</param>
/// <param name="Applied">What the agent last reported as applied; null before any report.</param>
/// <param name="GrantedAt">When the lease was granted.</param>
/// <param name="ExpiresAt">When it lapses unless renewed.</param>
/// <param name="Ttl">How far a renewal extends it.</param>
public sealed record LeaseEntry(
    string Id,
    Flow Flow,
    ProgramInfo Program,
    LaneGrant Grant,
    SocketSettings? Applied,
    DateTimeOffset GrantedAt,
    DateTimeOffset ExpiresAt,
    TimeSpan Ttl)
{
    /// <summary>The mTLS principal (certificate CN) of a remote caller that holds the lease; null for local callers.</summary>
    public string? Principal { get; init; }

    /// <summary>The links the lease reserves <see cref="LaneGrant.RateBps"/> on; empty when admission does not apply.</summary>
    public IReadOnlyList<LinkDemand> Links { get; init; } = [];

    /// <summary>
    /// Each end of the connection that asked for this lease, the granting one first; empty for leases restored from the
    /// store (then <see cref="Program"/> and <see cref="Principal"/> name the one holder).
    /// </summary>
    public IReadOnlyList<LeaseHolder> Holders { get; init; } = [];

    /// <summary>True when the lease has lapsed at <paramref name="now"/>.</summary>
    public bool IsExpiredAt(DateTimeOffset now) => now >= ExpiresAt;

    /// <summary>The lease as the ListLeases reply carries it (a deep copy).</summary>
    public Lease ToProto()
    {
        var lease = new Lease
        {
            LeaseId = Id,
            Flow = Flow.Clone(),
            Program = Program.Clone(),
            Grant = Grant.Clone(),
            GrantedUnixMs = GrantedAt.ToUnixTimeMilliseconds(),
        };
        if (Applied is not null)
        {
            lease.Applied = Applied.Clone();
        }
        if (Principal is not null)
        {
            lease.Principal = Principal;
        }
        foreach (LeaseHolder holder in Holders)
        {
            lease.Holders.Add(holder.ToProto());
        }

        return lease;
    }
}
