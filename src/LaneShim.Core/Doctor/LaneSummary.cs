// LaneSummary.cs - one lane's headline: its BDP and how fast a single stream can go on this host.
namespace LaneShim.Core.Doctor;

/// <summary>A lane's BDP and what the host lets a single stream reach, per direction.</summary>
public sealed record LaneSummary
{
    /// <summary>The lane that was checked.</summary>
    public required DoctorLane Lane { get; init; }

    /// <summary>Rate x RTT in bytes.</summary>
    public required long BdpBytes { get; init; }

    /// <summary>This host as the sender.</summary>
    public required DirectionLimit Send { get; init; }

    /// <summary>This host as the receiver.</summary>
    public required DirectionLimit Receive { get; init; }

    /// <summary>The slowest egress interface's link speed, bits/s, when one is known and below the lane rate.</summary>
    public ulong? LinkBps { get; init; }

    /// <summary>The most a single stream reaches either way: the lower direction, and the link.</summary>
    public ulong TopsOutAtBps => Math.Min(Math.Min(Send.TopsOutAtBps, Receive.TopsOutAtBps), LinkBps ?? ulong.MaxValue);

    /// <summary>True when a single stream cannot reach the lane rate.</summary>
    public bool Limited => TopsOutAtBps < Lane.RateBps;
}
