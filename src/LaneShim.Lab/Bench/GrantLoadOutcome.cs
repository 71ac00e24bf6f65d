// GrantLoadOutcome.cs - what one load level measured: grants per second, latency percentiles, refusals.
namespace LaneShim.Lab.Bench;

/// <summary>Grants per second and latencies (µs) of the grants that started and ended inside the measured window.</summary>
internal sealed record GrantLoadOutcome(double GrantsPerSecond, double P50Us, double P99Us, int Grants, int Errors, string? FirstError, int Connections);
