// BpfClassSettings.cs - struct laneshim_bpf_class: a lane class's socket settings as the kernel applies them.
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Bpf;

/// <summary>One entry of the classes array; 0 leaves the kernel's value.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct BpfClassSettings
{
    /// <summary>SO_SNDBUF.</summary>
    public uint Sndbuf;

    /// <summary>SO_RCVBUF.</summary>
    public uint Rcvbuf;

    /// <summary>SO_MAX_PACING_RATE, bytes/s.</summary>
    public uint Pacing;

    /// <summary>SO_MARK.</summary>
    public uint Mark;

    /// <summary>SO_PRIORITY.</summary>
    public uint Priority;

    /// <summary>TCP_NOTSENT_LOWAT.</summary>
    public uint Lowat;

    /// <summary>The TOS byte.</summary>
    public uint Tos;

    /// <summary>Class flags.</summary>
    public uint Flags;

    /// <summary>TCP_CONGESTION, NUL-terminated.</summary>
    public fixed byte Congestion[BpfLayout.CcLength];
}
