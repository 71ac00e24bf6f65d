// GrantValidator.cs - refuses grants no sane broker would send, before any of them reaches a socket.
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>Bounds on every grant field the agent applies or keeps.</summary>
internal static class GrantValidator
{
    private const long MaxBuffer = 1L << 30; // 1 GiB: beyond any real BDP this side of 2040
    private const int MaxIdLength = 256;
    private static readonly TimeSpan MaxLease = TimeSpan.FromDays(7);

    /// <summary>Why the grant is unusable at <paramref name="nowUnixMs"/>, or null when it is fine.</summary>
    public static string? Problem(LaneGrant grant, long nowUnixMs)
    {
        if (grant.LeaseId.Length is 0 or > MaxIdLength)
        {
            return $"lease id of {grant.LeaseId.Length} characters";
        }
        // A lease that never ends would pin a grant in the cache for the life of the process.
        if (grant.ExpiresUnixMs <= nowUnixMs || grant.ExpiresUnixMs - nowUnixMs > (long)MaxLease.TotalMilliseconds)
        {
            return $"lease expiry {grant.ExpiresUnixMs} is not within {MaxLease.TotalDays:0} days from now ({nowUnixMs})";
        }
        if (grant.LaneClass.Length > MaxIdLength || grant.PathId.Length > MaxIdLength)
        {
            return "lane class or path id too long";
        }
        if (grant.SndbufBytes is < 0 or > MaxBuffer)
        {
            return $"send buffer {grant.SndbufBytes} out of range";
        }
        if (grant.RcvbufBytes is < 0 or > MaxBuffer)
        {
            return $"receive buffer {grant.RcvbufBytes} out of range";
        }
        if (!Enum.IsDefined(grant.SndbufMode) || !Enum.IsDefined(grant.RcvbufMode))
        {
            return $"unknown buffer mode {(int)grant.SndbufMode}/{(int)grant.RcvbufMode}";
        }
        if (grant.Dscp > 63)
        {
            return $"dscp {grant.Dscp} out of range";
        }
        if (grant.Congestion.Length >= 16 || grant.Congestion.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-')))
        {
            return $"congestion control name '{Printable(grant.Congestion)}' is not a kernel name";
        }
        if (grant.NotsentLowat > MaxBuffer)
        {
            return $"notsent_lowat {grant.NotsentLowat} out of range";
        }
        return null;
    }

    // Broker strings end up in log lines: no control characters, and not kilobytes of them.
    private static string Printable(string text)
    {
        string shown = text.Length > 40 ? text[..40] + "…" : text;
        return string.Create(shown.Length, shown, static (span, s) =>
        {
            for (int i = 0; i < s.Length; i++)
            {
                span[i] = char.IsControl(s[i]) ? '?' : s[i];
            }
        });
    }
}
