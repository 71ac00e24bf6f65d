// LaneshimFlow.cs - mirror of struct laneshim_flow: one TCP flow as the shim sees it.
using System.Runtime.InteropServices;

namespace LaneShim.Agent.Abi;

/// <summary>Mirror of <c>struct laneshim_flow</c>. Addresses in network order, ports in host order.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct LaneshimFlow
{
    /// <summary>The socket's descriptor in the host program.</summary>
    public int Fd;

    /// <summary>LANESHIM_DIR_OUTBOUND (1, connect), _INBOUND (2, accept) or _LISTEN (3, listen: buffers set before accepted SYNs).</summary>
    public int Direction;

    /// <summary>LANESHIM_FLOW_* bits: which app buffer sizes are valid, O_NONBLOCK, and LATE (already connected: apply what still can be).</summary>
    public uint Flags;

    /// <summary>The socket's domain, AF_INET or AF_INET6; v4-mapped addresses stay as given.</summary>
    public ushort Family;

    /// <summary>Local port in host byte order; 0 when the socket is not bound yet.</summary>
    public ushort LocalPort;

    /// <summary>Remote port in host byte order; 0 for a listening socket.</summary>
    public ushort RemotePort;

    /// <summary>Padding; the shim passes 0.</summary>
    public ushort Reserved;

    /// <summary>Local address in network byte order; IPv4 uses the first 4 bytes.</summary>
    public fixed byte LocalAddr[16];

    /// <summary>Remote address in network byte order; IPv4 uses the first 4 bytes.</summary>
    public fixed byte RemoteAddr[16];

    /// <summary>The SO_SNDBUF the program itself set, in bytes; valid only with LANESHIM_FLOW_APP_SNDBUF.</summary>
    public int AppSndbuf;

    /// <summary>The SO_RCVBUF the program itself set, in bytes; valid only with LANESHIM_FLOW_APP_RCVBUF.</summary>
    public int AppRcvbuf;

    /// <summary>Microseconds left of the connect deadline when the agent is called (loading the agent counts).</summary>
    public uint BudgetUs;
}
