// BufferSide.cs - one direction's buffer facts for one lane: the sysctls that bound it and LaneShim's plan for it.
namespace LaneShim.Core.Doctor;

/// <summary>The send or receive side of a lane on a host, with every value the buffer checks need.</summary>
internal sealed record BufferSide
{
    public required BufferDirection Direction { get; init; }

    public required long Bdp { get; init; }

    /// <summary>net.ipv4.tcp_wmem or tcp_rmem: min, default, max (the kernel's defaults when unreadable).</summary>
    public required long[] Mem { get; init; }

    public required bool MemKnown { get; init; }

    /// <summary>net.core.wmem_max or rmem_max (the kernel's default when unreadable).</summary>
    public required long Cap { get; init; }

    public required bool CapKnown { get; init; }

    /// <summary>What LaneShim does for an unprivileged program that set no buffer itself.</summary>
    public required BufferPlan Plan { get; init; }

    /// <summary>The share of the buffer that carries data: half for send, the kernel's share for receive.</summary>
    public required ReceiveWindowShare Share { get; init; }

    public bool IsSend => Direction == BufferDirection.Send;

    public string Word => IsSend ? "send" : "receive";

    public string Option => IsSend ? "SO_SNDBUF" : "SO_RCVBUF";

    public string MemKey => IsSend ? SysctlKeys.TcpWmem : SysctlKeys.TcpRmem;

    public string CapKey => IsSend ? SysctlKeys.WmemMax : SysctlKeys.RmemMax;

    /// <summary>The autotuning ceiling that lets LaneShim leave autotuning on: 2 x BDP, more when less than half is window.</summary>
    public long CeilingNeeded => Math.Max(Saturating2x(Bdp), Share.BufferFor(Bdp));

    /// <summary>The cap that lets an explicitly set buffer (at most the BDP) hold the BDP.</summary>
    public long CapNeeded => Math.Min(Bdp, WindowMath.CeilDiv(Share.BufferFor(Bdp), 2));

    /// <summary>The window an explicit setsockopt of min(BDP, cap) gives (the kernel doubles the value).</summary>
    public long WindowWhenSet(long value) => Share.WindowOf(Saturating2x(value));

    private static long Saturating2x(long v) => v > long.MaxValue / 2 ? long.MaxValue : v * 2;
}
