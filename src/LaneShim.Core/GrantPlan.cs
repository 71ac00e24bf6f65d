// GrantPlan.cs - everything a lane grant tells the agent to apply, with the reason in words.
namespace LaneShim.Core;

/// <summary>The socket settings for one granted flow, as <see cref="GrantPlanner"/> computed them.</summary>
public sealed record GrantPlan
{
    /// <summary>The lane class name.</summary>
    public required string ClassName { get; init; }

    /// <summary>The granted rate, bits per second.</summary>
    public required ulong RateBps { get; init; }

    /// <summary>The RTT the buffers are sized for, and its source.</summary>
    public required RttChoice Rtt { get; init; }

    /// <summary>Rate x RTT in bytes.</summary>
    public required long BdpBytes { get; init; }

    /// <summary>The send buffer plan.</summary>
    public required BufferPlan Send { get; init; }

    /// <summary>The receive buffer plan.</summary>
    public required BufferPlan Receive { get; init; }

    /// <summary>TCP_CONGESTION to set; empty leaves the system default.</summary>
    public required string Congestion { get; init; }

    /// <summary>SO_MAX_PACING_RATE in bytes per second.</summary>
    public required ulong PacingBytesPerSecond { get; init; }

    /// <summary>DSCP, 0-63.</summary>
    public required int Dscp { get; init; }

    /// <summary>SO_MARK; 0 none.</summary>
    public required uint Mark { get; init; }

    /// <summary>SO_PRIORITY; 0 leave.</summary>
    public int Priority { get; init; }

    /// <summary>TCP_NOTSENT_LOWAT bytes; 0 leave.</summary>
    public required long NotsentLowat { get; init; }

    /// <summary>Listening sockets get their receive buffer before listen().</summary>
    public required bool Bulk { get; init; }

    /// <summary>Every note: clamps, ceilings, dropped settings.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>
    /// One line: "class dmz: 1 Gbit/s x 40 ms = 5.00 MB BDP; sndbuf 5.00 MB (force); rcvbuf autotune (ceiling 32 MiB);
    /// cc cubic; pacing 125 MB/s; dscp 46", followed by "; note: ..." for each note.
    /// </summary>
    public required string Reason { get; init; }
}
