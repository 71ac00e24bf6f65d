// GrantValidator.cs - refuses grants no sane broker would send, before any of them reaches a socket.
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>Bounds on every grant field the agent applies.</summary>
internal static class GrantValidator
{
    private const long MaxBuffer = 1L << 30; // 1 GiB: beyond any real BDP this side of 2040

    /// <summary>Why the grant is unusable, or null when it is fine.</summary>
    public static string? Problem(LaneGrant grant)
    {
        if (grant.SndbufBytes is < 0 or > MaxBuffer)
        {
            return $"send buffer {grant.SndbufBytes} out of range";
        }
        if (grant.RcvbufBytes is < 0 or > MaxBuffer)
        {
            return $"receive buffer {grant.RcvbufBytes} out of range";
        }
        if (grant.Dscp > 63)
        {
            return $"dscp {grant.Dscp} out of range";
        }
        if (grant.Congestion.Length >= 16 || grant.Congestion.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-')))
        {
            return $"congestion control name '{grant.Congestion}' is not a kernel name";
        }
        if (grant.NotsentLowat > MaxBuffer)
        {
            return $"notsent_lowat {grant.NotsentLowat} out of range";
        }
        return null;
    }
}
