// GrpcTimeout.cs - the grpc-timeout header the HTTP/2 connection sends for a CallDeadline, or reads from Grpc.Net.Client: at most 8 digits and a unit (H, M, S, m, u, n).
using System.Globalization;

namespace LaneShim.Grpc.Http2;

/// <summary>
/// Formats and parses the <c>grpc-timeout</c> request header (gRPC over HTTP/2, "Timeout → 1*8DIGIT TimeoutUnit").
/// </summary>
internal static class GrpcTimeout
{
    /// <summary>The header name.</summary>
    public const string HeaderName = "grpc-timeout";

    /// <summary>The largest value the header can carry in one unit.</summary>
    public const long MaxValue = 99_999_999;

    private const long NanosecondsPerTick = 100;

    // Units from finest to coarsest, with their length in nanoseconds.
    private static readonly (char Unit, long Nanoseconds)[] Units =
    [
        ('n', 1),
        ('u', 1_000),
        ('m', 1_000_000),
        ('S', 1_000_000_000),
        ('M', 60L * 1_000_000_000),
        ('H', 3600L * 1_000_000_000),
    ];

    /// <summary>
    /// Formats a timeout in the finest unit whose value fits in 8 digits, rounding up so the server
    /// never sees a shorter deadline than the client. Zero or negative gives <c>0n</c>.
    /// </summary>
    public static string Format(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return "0n";
        }

        // Ticks are 100 ns; in nanoseconds the largest TimeSpan still fits in a decimal, not a long.
        decimal nanoseconds = (decimal)timeout.Ticks * NanosecondsPerTick;
        foreach ((char unit, long size) in Units)
        {
            decimal value = decimal.Ceiling(nanoseconds / size);
            if (value <= MaxValue)
            {
                return ((long)value).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return MaxValue.ToString(CultureInfo.InvariantCulture) + "H";
    }

    /// <summary>Parses a header value such as <c>250m</c>; false when it is not 1-8 ASCII digits followed by a known unit.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length < 2 || value.Length > 9)
        {
            return false;
        }

        ReadOnlySpan<char> digits = value[..^1];
        long amount = 0;
        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            amount = (amount * 10) + (c - '0');
        }

        long nanosecondsPerUnit = 0;
        foreach ((char unit, long size) in Units)
        {
            if (unit == value[^1])
            {
                nanosecondsPerUnit = size;
            }
        }

        if (nanosecondsPerUnit == 0)
        {
            return false;
        }

        // 99,999,999 hours is about 11,400 years: within TimeSpan's range, and within a decimal in nanoseconds.
        decimal ticks = decimal.Ceiling((decimal)amount * nanosecondsPerUnit / NanosecondsPerTick);
        timeout = TimeSpan.FromTicks((long)ticks);
        return true;
    }
}
