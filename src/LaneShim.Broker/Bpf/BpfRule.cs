// BpfRule.cs - struct laneshim_bpf_rule: one policy rule as the kernel evaluates it.
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Bpf;

/// <summary>A rule of the rules array, in policy order.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct BpfRule
{
    /// <summary><see cref="BpfLayout.ActionClass"/>, deny or userspace.</summary>
    public uint Action;

    /// <summary>The class, for <see cref="BpfLayout.ActionClass"/>.</summary>
    public uint ClassIndex;

    /// <summary>Direction bits.</summary>
    public uint Directions;

    /// <summary>Port ranges in use; 0 matches any port.</summary>
    public uint PortRangeCount;

    /// <summary>Uid ranges in use; 0 matches any uid.</summary>
    public uint UidRangeCount;

    /// <summary>The policy line.</summary>
    public uint Line;

    /// <summary>First ports.</summary>
    public fixed ushort PortLo[BpfLayout.PortRanges];

    /// <summary>Last ports.</summary>
    public fixed ushort PortHi[BpfLayout.PortRanges];

    /// <summary>First uids.</summary>
    public fixed uint UidLo[BpfLayout.UidRanges];

    /// <summary>Last uids.</summary>
    public fixed uint UidHi[BpfLayout.UidRanges];
}
