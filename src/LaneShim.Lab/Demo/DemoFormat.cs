// DemoFormat.cs - how the demo prints numbers: invariant culture, decimal units.
using System.Globalization;

namespace LaneShim.Lab.Demo;

/// <summary>Number formatting shared by the progress lines, the table and the notes.</summary>
internal static class DemoFormat
{
    public static string Fixed(double value, int decimals = 1) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    /// <summary>Decimal units: 1.00 GB, 500.0 MB, 12.3 kB.</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        >= 1_000_000_000 => $"{Fixed(bytes / 1e9, 2)} GB",
        >= 1_000_000 => $"{Fixed(bytes / 1e6)} MB",
        >= 1_000 => $"{Fixed(bytes / 1e3)} kB",
        _ => $"{bytes} B",
    };

    public static string Mbps(double mbps) => $"{Fixed(mbps)} Mbit/s";

    public static string Seconds(double seconds) => $"{Fixed(seconds)} s";

    public static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A command line as a shell would need it typed: arguments with spaces or specials in single quotes, newlines as \n.</summary>
    public static string Command(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    private static string Quote(string arg)
    {
        string shown = arg.Replace("\n", "\\n", StringComparison.Ordinal);
        return shown.Length > 0 && shown.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@%+".Contains(c))
            ? shown
            : "'" + shown.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
