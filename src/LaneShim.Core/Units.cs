// Units.cs - parses and formats the rates, sizes and durations people write in policy files and on the command line.
using System.Globalization;

namespace LaneShim.Core;

/// <summary>
/// Human units for rates (bits per second, decimal SI), sizes (bytes) and durations.
/// </summary>
/// <remarks>
/// <para>Rates: a number, an optional prefix <c>k</c>/<c>m</c>/<c>g</c>/<c>t</c> (powers of 1000) and an optional
/// unit <c>bit</c>, <c>bits</c>, <c>bit/s</c> or <c>bits/s</c>: <c>1gbit</c>, <c>100mbit</c>, <c>2.38gbit</c>, <c>10g</c>,
/// <c>500m</c>, <c>1000000</c>, <c>1 Gbit/s</c>. Byte units and the ambiguous <c>bps</c> (tc reads it as bytes/s)
/// are rejected rather than guessed.</para>
/// <para>Sizes: <c>K</c>/<c>M</c>/<c>G</c>/<c>T</c> alone and <c>KiB</c>/<c>MiB</c>/<c>GiB</c>/<c>TiB</c> are binary
/// (1024-based, as iperf3 and the kernel's sysctls use them); <c>KB</c>/<c>MB</c>/<c>GB</c>/<c>TB</c> are decimal;
/// no unit or <c>B</c> is bytes. So <c>64K</c> = 65536, <c>4M</c> = 4194304, <c>5MB</c> = 5000000.</para>
/// <para>Durations: <c>ns</c>, <c>us</c>, <c>ms</c>, <c>s</c>, <c>m</c>/<c>min</c>, <c>h</c>, <c>d</c>: <c>40ms</c>,
/// <c>1.5s</c>, <c>250us</c>, <c>2m</c>. A unit is required (except for <c>0</c>).</para>
/// <para>All parsing is case-insensitive and culture-invariant; a space between number and unit is allowed.</para>
/// </remarks>
public static class Units
{
    private const string RateHint = "expected a number with an optional k, m, g or t prefix in bits per second, e.g. 1gbit, 500m, 2.38gbit";
    private const string SizeHint = "expected a number with an optional unit, e.g. 65536, 64K (=64 KiB), 5MB (=5,000,000), 4MiB";
    private const string DurationHint = "expected a number with a unit, e.g. 40ms, 1.5s, 250us, 2m";

    /// <summary>Parses a rate in bits per second; <paramref name="error"/> says what is wrong when it returns false (empty when it returns true).</summary>
    public static bool TryParseRate(string? text, out ulong bitsPerSecond, out string error)
    {
        bitsPerSecond = 0;
        if (!TrySplit(text, out decimal number, out string unit))
        {
            error = $"bad rate '{text}': {RateHint}";
            return false;
        }

        decimal multiplier = 1;
        string rest = unit;
        if (rest.Length > 0 && PrefixMultiplier(rest[0], 1000m) is decimal m)
        {
            multiplier = m;
            rest = rest[1..];
        }

        switch (rest)
        {
            case "" or "bit" or "bits" or "bit/s" or "bits/s":
                break;
            case "bps":
                error = $"bad rate '{text}': 'bps' is ambiguous (tc reads it as bytes/s); write bit/s, e.g. {number.ToString(CultureInfo.InvariantCulture)}{unit[..(unit.Length - 3)]}bit";
                return false;
            case "b" or "b/s" or "byte" or "bytes" or "byte/s" or "bytes/s":
                error = $"bad rate '{text}': rates are in bits per second; write e.g. 800mbit for 100 MB/s";
                return false;
            default:
                error = $"bad rate '{text}': unknown unit '{unit}'; {RateHint}";
                return false;
        }

        decimal value = decimal.Round(number * multiplier, MidpointRounding.AwayFromZero);
        if (value > ulong.MaxValue)
        {
            error = $"bad rate '{text}': too large";
            return false;
        }

        bitsPerSecond = (ulong)value;
        error = string.Empty;
        return true;
    }

    /// <summary>Parses a rate in bits per second or throws <see cref="FormatException"/>.</summary>
    public static ulong ParseRate(string text) =>
        TryParseRate(text, out ulong value, out string error) ? value : throw new FormatException(error);

    /// <summary>Parses a size in bytes; <paramref name="error"/> says what is wrong when it returns false (empty when it returns true).</summary>
    public static bool TryParseSize(string? text, out long bytes, out string error)
    {
        bytes = 0;
        if (!TrySplit(text, out decimal number, out string unit))
        {
            error = $"bad size '{text}': {SizeHint}";
            return false;
        }

        decimal? multiplier = unit switch
        {
            "" or "b" or "byte" or "bytes" => 1m,
            "k" or "kib" => 1024m,
            "m" or "mib" => 1024m * 1024,
            "g" or "gib" => 1024m * 1024 * 1024,
            "t" or "tib" => 1024m * 1024 * 1024 * 1024,
            "kb" => 1000m,
            "mb" => 1000m * 1000,
            "gb" => 1000m * 1000 * 1000,
            "tb" => 1000m * 1000 * 1000 * 1000,
            _ => null,
        };
        if (multiplier is null)
        {
            error = $"bad size '{text}': unknown unit '{unit}'; {SizeHint}";
            return false;
        }

        decimal value = decimal.Round(number * multiplier.Value, MidpointRounding.AwayFromZero);
        if (value > long.MaxValue)
        {
            error = $"bad size '{text}': too large";
            return false;
        }

        bytes = (long)value;
        error = string.Empty;
        return true;
    }

    /// <summary>Parses a size in bytes or throws <see cref="FormatException"/>.</summary>
    public static long ParseSize(string text) =>
        TryParseSize(text, out long value, out string error) ? value : throw new FormatException(error);

    /// <summary>Parses a duration; <paramref name="error"/> says what is wrong when it returns false (empty when it returns true).</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration, out string error)
    {
        duration = TimeSpan.Zero;
        if (!TrySplit(text, out decimal number, out string unit))
        {
            error = $"bad duration '{text}': {DurationHint}";
            return false;
        }

        decimal? ticksPerUnit = unit switch
        {
            "ns" => 0.01m,
            "us" or "µs" or "usec" => 10m,
            "ms" or "msec" => TimeSpan.TicksPerMillisecond,
            "s" or "sec" or "secs" => TimeSpan.TicksPerSecond,
            "m" or "min" or "mins" => TimeSpan.TicksPerMinute,
            "h" or "hr" or "hrs" => TimeSpan.TicksPerHour,
            "d" or "day" or "days" => TimeSpan.TicksPerDay,
            "" when number == 0 => 0m,
            "" => null,
            _ => null,
        };
        if (ticksPerUnit is null)
        {
            error = unit.Length == 0
                ? $"bad duration '{text}': missing unit; {DurationHint}"
                : $"bad duration '{text}': unknown unit '{unit}'; {DurationHint}";
            return false;
        }

        decimal ticks = decimal.Round(number * ticksPerUnit.Value, MidpointRounding.AwayFromZero);
        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            error = $"bad duration '{text}': too large";
            return false;
        }

        duration = TimeSpan.FromTicks((long)ticks);
        error = string.Empty;
        return true;
    }

    /// <summary>Parses a duration or throws <see cref="FormatException"/>.</summary>
    public static TimeSpan ParseDuration(string text) =>
        TryParseDuration(text, out TimeSpan value, out string error) ? value : throw new FormatException(error);

    /// <summary>Formats a rate with three significant digits: "1 Gbit/s", "2.38 Gbit/s", "13.1 Mbit/s".</summary>
    public static string FormatRate(ulong bitsPerSecond) =>
        FormatScaled(bitsPerSecond, 1000m, ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s", "Pbit/s"]);

    /// <summary>Formats a byte rate with three significant digits: "125 MB/s".</summary>
    public static string FormatByteRate(ulong bytesPerSecond) =>
        FormatScaled(bytesPerSecond, 1000m, ["B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s"]);

    /// <summary>
    /// Formats a size. Exact binary multiples below 1024 of their unit print binary ("64 KiB", "32 MiB": what
    /// sysctls usually hold); everything else prints decimal with two decimals ("5.00 MB", "53.55 MB").
    /// Both forms parse back with <see cref="ParseSize"/>.
    /// </summary>
    public static string FormatSize(long bytes)
    {
        if (bytes < 0)
        {
            return "-" + FormatSize(bytes == long.MinValue ? long.MaxValue : -bytes);
        }

        string[] binary = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        for (int power = binary.Length; power >= 1; power--)
        {
            long unit = 1L << (10 * power);
            if (bytes >= unit && bytes % unit == 0 && bytes / unit < 1024)
            {
                return $"{(bytes / unit).ToString(CultureInfo.InvariantCulture)} {binary[power - 1]}";
            }
        }

        if (bytes < 1000)
        {
            return $"{bytes.ToString(CultureInfo.InvariantCulture)} B";
        }

        string[] names = ["kB", "MB", "GB", "TB", "PB", "EB"];
        decimal value = bytes;
        int index = -1;
        while (value >= 1000m && index < names.Length - 1)
        {
            value /= 1000m;
            index++;
        }

        // Rounding 999.996 kB to two decimals would print "1000.00 kB"; move up a unit instead.
        if (decimal.Round(value, 2) >= 1000m && index < names.Length - 1)
        {
            value /= 1000m;
            index++;
        }

        return $"{value.ToString("0.00", CultureInfo.InvariantCulture)} {names[index]}";
    }

    /// <summary>Formats a duration with three significant digits: "40 ms", "1.5 s", "250 us", "10 min".</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            return "-" + FormatDuration(duration.Duration());
        }

        long ticks = duration.Ticks;
        if (ticks == 0)
        {
            return "0 s";
        }

        (decimal perUnit, string name) = ticks switch
        {
            < TimeSpan.TicksPerMillisecond => (10m, "us"),
            < TimeSpan.TicksPerSecond => ((decimal)TimeSpan.TicksPerMillisecond, "ms"),
            < TimeSpan.TicksPerMinute => ((decimal)TimeSpan.TicksPerSecond, "s"),
            < TimeSpan.TicksPerHour => ((decimal)TimeSpan.TicksPerMinute, "min"),
            < TimeSpan.TicksPerDay => ((decimal)TimeSpan.TicksPerHour, "h"),
            _ => ((decimal)TimeSpan.TicksPerDay, "d"),
        };
        return $"{SignificantDigits(ticks / perUnit)} {name}";
    }

    private static string FormatScaled(ulong value, decimal step, string[] names)
    {
        decimal scaled = value;
        int index = 0;
        while (scaled >= step && index < names.Length - 1)
        {
            scaled /= step;
            index++;
        }

        string digits = SignificantDigits(scaled);
        if (digits == "1000" && index < names.Length - 1)
        {
            digits = "1";
            index++;
        }

        return $"{digits} {names[index]}";
    }

    // Three significant digits, trailing zeros dropped: 13.1072 -> "13.1", 2.38 -> "2.38", 125 -> "125".
    private static string SignificantDigits(decimal value)
    {
        string format = value switch
        {
            < 10m => "0.##",
            < 100m => "0.#",
            _ => "0",
        };
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    private static decimal? PrefixMultiplier(char prefix, decimal step) => prefix switch
    {
        'k' => step,
        'm' => step * step,
        'g' => step * step * step,
        't' => step * step * step * step,
        _ => null,
    };

    // Splits "2.38 Gbit/s" into 2.38 and "gbit/s". Only plain decimals: no sign, exponent or group separators.
    private static bool TrySplit(string? text, out decimal number, out string unit)
    {
        number = 0;
        unit = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string s = text.Trim();
        int end = 0;
        bool sawDot = false;
        bool sawDigit = false;
        while (end < s.Length)
        {
            char c = s[end];
            if (char.IsAsciiDigit(c))
            {
                sawDigit = true;
            }
            else if (c == '.' && !sawDot)
            {
                sawDot = true;
            }
            else
            {
                break;
            }

            end++;
        }

        if (!sawDigit || end > 40)
        {
            return false;
        }

        if (!decimal.TryParse(s.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number))
        {
            return false;
        }

        unit = s[end..].TrimStart().ToLowerInvariant();
        return true;
    }
}
