// FlowVerdict.cs - names what limited a closed flow, from its TCP_INFO time split.
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Telemetry;

/// <summary>
/// Classifies a flow by where its time went. TCP_INFO splits the time data was in flight (busy) into time limited by
/// the peer's receive window, by our send buffer, and the rest (the congestion window); the time not busy at all is
/// the application not writing. The largest share wins.
/// </summary>
public static class FlowVerdict
{
    /// <summary>The peer's advertised window was the limit: the far end reads or buffers too little.</summary>
    public const string ReceiverWindow = "receiver window";

    /// <summary>Our socket's send buffer was the limit.</summary>
    public const string SendBuffer = "send buffer";

    /// <summary>The congestion window was the limit (the network, or the congestion control).</summary>
    public const string Congestion = "congestion";

    /// <summary>The sender had nothing to send most of the time.</summary>
    public const string Application = "application";

    /// <summary>The socket mostly received; its own send-side timers say nothing about the transfer.</summary>
    public const string ReceiveOnly = "receive only";

    /// <summary>No statistics.</summary>
    public const string Unknown = "unknown";

    /// <summary>The congestion-limited time: busy minus the two other limits, or the reported field when present.</summary>
    public static ulong CongestionLimitedUs(FlowStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        if (stats.CwndLimitedUs != 0)
        {
            return stats.CwndLimitedUs;
        }
        ulong other = stats.RwndLimitedUs + stats.SndbufLimitedUs;
        return stats.BusyTimeUs > other ? stats.BusyTimeUs - other : 0;
    }

    /// <summary>What limited the flow, as one of the constants of this class.</summary>
    public static string Classify(FlowStats? stats)
    {
        if (stats is null || (stats.BytesAcked == 0 && stats.BytesReceived == 0 && stats.BusyTimeUs == 0))
        {
            return Unknown;
        }
        if (stats.BytesReceived > 0 && stats.BytesAcked < stats.BytesReceived / 100)
        {
            return ReceiveOnly;
        }
        ulong durationUs = stats.DurationMs * 1000;
        ulong appUs = durationUs > stats.BusyTimeUs ? durationUs - stats.BusyTimeUs : 0;
        ulong cwndUs = CongestionLimitedUs(stats);
        (string Name, ulong Us)[] shares =
        [
            (ReceiverWindow, stats.RwndLimitedUs),
            (SendBuffer, stats.SndbufLimitedUs),
            (Congestion, cwndUs),
            (Application, appUs),
        ];
        (string name, ulong most) = shares[0];
        foreach ((string n, ulong us) in shares)
        {
            if (us > most)
            {
                (name, most) = (n, us);
            }
        }
        return most == 0 ? Application : name;
    }

    /// <summary>What the flow moved per second, in bits: the larger of bytes sent (acked) and received, over its duration; 0 when unknown.</summary>
    public static ulong AchievedBps(FlowStats? stats)
    {
        if (stats is null || stats.DurationMs == 0)
        {
            return 0;
        }
        ulong bytes = Math.Max(stats.BytesAcked, stats.BytesReceived);
        return (ulong)(bytes * 8.0 * 1000 / stats.DurationMs);
    }
}
