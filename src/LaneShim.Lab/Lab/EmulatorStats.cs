// EmulatorStats.cs - reads the JSON counters a link emulator rewrites every stats interval.
using System.Text.Json;

namespace LaneShim.Lab.Lab;

/// <summary>An emulator's stats file: ab carries packets from the link's first end to its second, ba the reverse.</summary>
internal sealed record EmulatorStats(int Pid, double UptimeSeconds, bool Final, EmulatorDirectionStats Ab, EmulatorDirectionStats Ba)
{
    /// <summary>The stats in <paramref name="file"/>, or null when it is missing or not a stats file.</summary>
    public static EmulatorStats? Read(string file)
    {
        try
        {
            EmulatorStatsFile? f = JsonSerializer.Deserialize(File.ReadAllBytes(file), EmulatorJson.Default.EmulatorStatsFile);
            return f is null ? null : new EmulatorStats(f.Pid, f.UptimeS, f.Final, f.Directions.Ab, f.Directions.Ba);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
