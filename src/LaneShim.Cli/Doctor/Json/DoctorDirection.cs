// DoctorDirection.cs - one direction of a lane in `laneshim doctor --json`: buffer mode, window and what limits it.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>The send or receive side of a lane.</summary>
internal sealed record DoctorDirection(string Mode, long WindowBytes, ulong TopsOutAtBps, IReadOnlyList<string> LimitedBy);
