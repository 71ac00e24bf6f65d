// LaneshimFlow.cs - mirror of struct laneshim_flow: one TCP flow as the shim sees it.
using System.Runtime.InteropServices;

namespace LaneShim.Agent.Abi;

/// <summary>Mirror of <c>struct laneshim_flow</c>. Addresses in network order, ports in host order.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct LaneshimFlow
{
    public int Fd;
    public int Direction;
    public uint Flags;
    public ushort Family;
    public ushort LocalPort;
    public ushort RemotePort;
    public ushort Reserved;
    public fixed byte LocalAddr[16];
    public fixed byte RemoteAddr[16];
    public int AppSndbuf;
    public int AppRcvbuf;
    public uint BudgetUs;
}
