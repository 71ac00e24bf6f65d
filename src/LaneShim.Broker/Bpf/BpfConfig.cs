// BpfConfig.cs - struct laneshim_bpf_config: the program's global switch and what it needs besides the rules.
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Bpf;

/// <summary>Index 0 of the config array.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct BpfConfig
{
    /// <summary>0: the program touches nothing.</summary>
    public uint Enabled;

    /// <summary>Rules in the rules array.</summary>
    public uint RuleCount;

    /// <summary>Rules without a dst matcher.</summary>
    public ulong NoDestinationMask;

    /// <summary>The system's congestion control, which a refused socket goes back to.</summary>
    public fixed byte DefaultCongestion[BpfLayout.CcLength];

    /// <summary>The broker's process id: its own setsockopt calls on a socket are not user space tuning it.</summary>
    public uint BrokerTgid;

    /// <summary>Padding.</summary>
    public uint Reserved;
}
