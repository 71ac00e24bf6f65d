// EmulatorStats.cs - reads the JSON counters a link emulator rewrites every stats interval.
using System.Text.Json;

namespace LaneShim.Lab.Lab;

/// <summary>An emulator's stats file: ab carries packets from the link's first end to its second, ba the reverse.</summary>
public sealed record EmulatorStats(int Pid, double UptimeSeconds, bool Final, EmulatorDirectionStats Ab, EmulatorDirectionStats Ba)
{
    /// <summary>The stats in <paramref name="file"/>, or null when it is missing or not a stats file.</summary>
    public static EmulatorStats? Read(string file)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file));
            JsonElement root = doc.RootElement;
            JsonElement directions = root.GetProperty("directions");
            return new EmulatorStats(
                root.GetProperty("pid").GetInt32(),
                root.GetProperty("uptime_s").GetDouble(),
                root.GetProperty("final").GetBoolean(),
                Direction(directions.GetProperty("ab")),
                Direction(directions.GetProperty("ba")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static EmulatorDirectionStats Direction(JsonElement d) => new(
        d.GetProperty("received_packets").GetInt64(),
        d.GetProperty("received_bytes").GetInt64(),
        d.GetProperty("forwarded_packets").GetInt64(),
        d.GetProperty("forwarded_bytes").GetInt64(),
        d.GetProperty("dropped_loss_packets").GetInt64(),
        d.GetProperty("dropped_queue_packets").GetInt64(),
        d.GetProperty("dropped_buffer_packets").GetInt64(),
        d.GetProperty("write_errors").GetInt64(),
        d.GetProperty("max_queue_bytes").GetInt64());
}
