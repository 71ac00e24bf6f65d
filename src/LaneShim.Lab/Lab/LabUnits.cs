// LabUnits.cs - loss probabilities and the compact rate/latency spellings the topology file and the emulator read.
using System.Globalization;

namespace LaneShim.Lab.Lab;

/// <summary>Parsing and formatting for lab parameters that <see cref="LaneShim.Core.Units"/> does not cover.</summary>
internal static class LabUnits
{
    /// <summary>"0.01%" or "0.0001" or "0" as a probability; throws <see cref="FormatException"/>.</summary>
    public static double ParseLoss(string text)
    {
        string t = text.Trim();
        bool percent = t.EndsWith('%');
        string number = percent ? t[..^1] : t;
        if (!decimal.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal value) || value < 0)
        {
            throw new FormatException($"bad loss '{text}': a percentage like 0.01% or a probability like 0.0001");
        }
        decimal p = percent ? value / 100 : value;
        if (p >= 1)
        {
            throw new FormatException($"bad loss '{text}': must be below 100%");
        }
        return (double)p;
    }

    /// <summary>0.0001 as "0.01%"; 0 as "0%".</summary>
    public static string Percent(double loss) =>
        decimal.Round((decimal)loss * 100, 10).Normalize().ToString(CultureInfo.InvariantCulture) + "%";

    /// <summary>A rate as the topology file writes it: "100mbit", "1gbit", "2500kbit".</summary>
    public static string TopologyRate(ulong bps) => bps switch
    {
        0 => "0",
        _ when bps % 1_000_000_000 == 0 => $"{bps / 1_000_000_000}gbit",
        _ when bps % 1_000_000 == 0 => $"{bps / 1_000_000}mbit",
        _ when bps % 1_000 == 0 => $"{bps / 1_000}kbit",
        _ => $"{bps}bit",
    };

    /// <summary>A duration as the topology file writes it: "20ms", "250us", "0ms".</summary>
    public static string TopologyDuration(TimeSpan t) => t.Ticks % TimeSpan.TicksPerMillisecond == 0
        ? $"{t.Ticks / TimeSpan.TicksPerMillisecond}ms"
        : t.Ticks % 10 == 0 ? $"{t.Ticks / 10}us" : $"{t.Ticks * 100}ns";

    /// <summary>A duration in nanoseconds, exact, as the emulator reads it.</summary>
    public static string EmulatorDuration(TimeSpan t) => $"{t.Ticks * 100}ns";

    private static decimal Normalize(this decimal d) => d / 1.000000000000000000000000000000000m;
}
