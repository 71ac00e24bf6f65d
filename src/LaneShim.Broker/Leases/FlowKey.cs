// FlowKey.cs - a connection's 5-tuple without its direction, so the client's and the server's view of it are one key.
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Leases;

/// <summary>
/// Two endpoints (address and port, IPv4-mapped addresses as IPv4) in a fixed order, and the protocol: the flow
/// <c>A:p → B:q</c> seen from A and the flow <c>B:q → A:p</c> seen from B have the same key.
/// </summary>
internal readonly record struct FlowKey(UInt128 LowAddress, uint LowPort, UInt128 HighAddress, uint HighPort, uint Protocol)
{
    /// <summary>The key of a connected flow; null when an address is missing or a wildcard, a port is 0, or it is a listener.</summary>
    public static FlowKey? Of(Flow flow)
    {
        if (flow.Direction is not (Direction.Outbound or Direction.Inbound)
            || Address(flow.Local) is not UInt128 local || Address(flow.Remote) is not UInt128 remote
            || flow.Local.Port is 0 or > 65535 || flow.Remote.Port is 0 or > 65535)
        {
            return null;
        }
        uint protocol = flow.Protocol == 0 ? 6 : flow.Protocol;
        return (local, flow.Local.Port).CompareTo((remote, flow.Remote.Port)) <= 0
            ? new FlowKey(local, flow.Local.Port, remote, flow.Remote.Port, protocol)
            : new FlowKey(remote, flow.Remote.Port, local, flow.Local.Port, protocol);
    }

    // 16 bytes as one number; an IPv4 address (4 bytes, or ::ffff:a.b.c.d) as the same IPv4-mapped value.
    private static UInt128? Address(Endpoint? endpoint)
    {
        if (endpoint is null)
        {
            return null;
        }
        ReadOnlySpan<byte> bytes = endpoint.Address.Span;
        Span<byte> v6 = stackalloc byte[16];
        if (bytes.Length == 4)
        {
            v6[10] = 0xff;
            v6[11] = 0xff;
            bytes.CopyTo(v6[12..]);
        }
        else if (bytes.Length == 16)
        {
            bytes.CopyTo(v6);
        }
        else
        {
            return null;
        }
        UInt128 value = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(v6);
        bool wildcard = value == 0 || value == ((UInt128)0xffff << 32);
        return wildcard ? null : value;
    }
}
