// FlowBinder.cs - gives an unbound outbound socket its local port before the broker is asked, so the broker
// knows the whole 5-tuple and can steer it before the SYN leaves.
using LaneShim.Agent.Abi;
using LaneShim.Agent.Native;

namespace LaneShim.Agent;

/// <summary>
/// Binds to the wildcard address with port 0 (the kernel picks the port now instead of at connect; the source
/// address is still chosen by the route at connect) and finds that source address with a UDP route probe.
/// Cost: a bind-time port must be unused on every address, which narrows the ephemeral range for hosts with
/// tens of thousands of concurrent connections; on any failure the flow simply goes without a local port.
/// </summary>
internal static unsafe class FlowBinder
{
    /// <summary>Fills <paramref name="flow"/>'s local address and port; false when it could not (the flow is untouched then).</summary>
    public static bool TryBindEphemeral(ref LaneshimFlow flow)
    {
        if (flow.Direction != AbiConstants.DirOutbound || flow.LocalPort != 0 || flow.Family is not (Libc.AF_INET or Libc.AF_INET6))
        {
            return false;
        }
        byte* any = stackalloc byte[28];
        new Span<byte>(any, 28).Clear();
        *(ushort*)any = flow.Family;
        uint length = flow.Family == Libc.AF_INET ? 16u : 28u;
        if (Libc.Bind(flow.Fd, any, length) != 0)
        {
            return false;
        }
        byte* bound = stackalloc byte[28];
        uint boundLength = 28;
        if (Libc.GetSockName(flow.Fd, bound, &boundLength) != 0)
        {
            return false;
        }
        flow.LocalPort = (ushort)((bound[2] << 8) | bound[3]);
        RouteSource(ref flow);
        return true;
    }

    /// <summary>The source address the route to the destination picks, via a connected UDP socket (no packet is sent).</summary>
    private static void RouteSource(ref LaneshimFlow flow)
    {
        int probe = Libc.Socket(flow.Family, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (probe < 0)
        {
            return;
        }
        try
        {
            byte* to = stackalloc byte[28];
            new Span<byte>(to, 28).Clear();
            *(ushort*)to = flow.Family;
            to[2] = (byte)(flow.RemotePort >> 8);
            to[3] = (byte)flow.RemotePort;
            fixed (byte* remote = flow.RemoteAddr)
            {
                if (flow.Family == Libc.AF_INET)
                {
                    new ReadOnlySpan<byte>(remote, 4).CopyTo(new Span<byte>(to + 4, 4));
                }
                else
                {
                    new ReadOnlySpan<byte>(remote, 16).CopyTo(new Span<byte>(to + 8, 16));
                }
            }
            uint length = flow.Family == Libc.AF_INET ? 16u : 28u;
            if (Libc.Connect(probe, to, length) != 0)
            {
                return;
            }
            byte* from = stackalloc byte[28];
            uint fromLength = 28;
            if (Libc.GetSockName(probe, from, &fromLength) != 0)
            {
                return;
            }
            fixed (byte* local = flow.LocalAddr)
            {
                if (flow.Family == Libc.AF_INET)
                {
                    new ReadOnlySpan<byte>(from + 4, 4).CopyTo(new Span<byte>(local, 16));
                }
                else
                {
                    new ReadOnlySpan<byte>(from + 8, 16).CopyTo(new Span<byte>(local, 16));
                }
            }
        }
        finally
        {
            Libc.Close(probe);
        }
    }
}
