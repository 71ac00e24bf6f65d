// LeaseHolder.cs - one end of a per-flow lease's connection that asked for it: the client's socket, or the server's.
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Leases;

/// <summary>
/// Who asked for a lease from one end of its connection. A per-flow lease has one holder per end that asked the same
/// broker (a client and a server both under the shim share one lease); it ends when every holder has
/// <see cref="Ended"/>: its connection end is gone, or was released by its last holder where the broker cannot watch it.
/// </summary>
/// <param name="Direction">Outbound for the connecting end, inbound for the accepting end.</param>
/// <param name="Uid">The holder's uid (from the kernel for local callers).</param>
/// <param name="Pid">The pid that asked (from the kernel for local callers; 0 when unknown).</param>
/// <param name="Principal">The mTLS principal of a remote holder; null for local callers.</param>
public sealed record LeaseHolder(Direction Direction, uint Uid, int Pid, string? Principal)
{
    /// <summary>This end is gone: the kernel no longer has its connection, or (unwatched) its process released it.</summary>
    public bool Ended { get; init; }

    /// <summary>Its process released the lease (closed the last descriptor it knew of); other processes may still hold the socket.</summary>
    public bool Released { get; init; }

    /// <summary>What this end was granted (the table's copy; read-only); null for holders restored without one.</summary>
    public LaneGrant? Grant { get; init; }

    /// <summary>The holder as ListLeases shows it.</summary>
    public Holder ToProto()
    {
        var holder = new Holder
        {
            Direction = Direction,
            Uid = Uid,
            Pid = (uint)Math.Max(Pid, 0),
            Principal = Principal ?? "",
            Released = Released,
            Ended = Ended,
        };
        if (Grant is not null)
        {
            holder.Grant = Grant.Clone();
        }
        return holder;
    }
}
