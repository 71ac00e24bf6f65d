// LaneshimOutcome.cs - mirror of struct laneshim_outcome: what the agent did, read back from the kernel.
using System.Runtime.InteropServices;

namespace LaneShim.Agent.Abi;

/// <summary>Mirror of <c>struct laneshim_outcome</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct LaneshimOutcome
{
    public uint Applied;
    public int Sndbuf;
    public int Rcvbuf;
    public uint Tos;
    public ulong PacingRate;
    public uint Mark;
    public uint Reserved;
    public fixed byte Congestion[AbiConstants.CcNameMax];
}
