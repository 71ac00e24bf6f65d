// EmulatorStatsFile.cs - the shape of the stats file laneshim-linkemu rewrites every interval.
using System.Text.Json.Serialization;

namespace LaneShim.Lab.Lab;

/// <summary>{"pid", "uptime_s", "final", "directions": {"ab", "ba"}} as the emulator writes it (<see cref="EmulatorJson"/>).</summary>
internal sealed record EmulatorStatsFile(int Pid, [property: JsonPropertyName("uptime_s")] double UptimeS, bool Final, EmulatorStatsDirections Directions);
