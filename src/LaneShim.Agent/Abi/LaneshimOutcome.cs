// LaneshimOutcome.cs - mirror of struct laneshim_outcome: what the agent did, read back from the kernel.
using System.Runtime.InteropServices;

namespace LaneShim.Agent.Abi;

/// <summary>Mirror of <c>struct laneshim_outcome</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct LaneshimOutcome
{
    /// <summary>LANESHIM_SET_* bits: which settings the kernel accepted, and FROM_CACHE when no broker round trip was made.</summary>
    public uint Applied;

    /// <summary>getsockopt(SO_SNDBUF) after applying, in bytes (the kernel's doubled value).</summary>
    public int Sndbuf;

    /// <summary>getsockopt(SO_RCVBUF) after applying, in bytes (the kernel's doubled value).</summary>
    public int Rcvbuf;

    /// <summary>The traffic class set in IP_TOS or IPV6_TCLASS: DSCP shifted left by 2.</summary>
    public uint Tos;

    /// <summary>SO_MAX_PACING_RATE in bytes per second; 0 when none was set.</summary>
    public ulong PacingRate;

    /// <summary>SO_MARK the lane's path steers on; 0 when none was set.</summary>
    public uint Mark;

    /// <summary>Padding; the agent writes 0.</summary>
    public uint Reserved;

    /// <summary>NUL-terminated TCP_CONGESTION name the socket ended with (at most 15 characters and the NUL).</summary>
    public fixed byte Congestion[AbiConstants.CcNameMax];
}
