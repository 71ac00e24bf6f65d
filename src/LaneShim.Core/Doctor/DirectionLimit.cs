// DirectionLimit.cs - how far one direction (send or receive) of a lane gets on this host, and what stops it.
namespace LaneShim.Core.Doctor;

/// <summary>The window one direction of a lane gets, and the rate that window carries.</summary>
/// <param name="Mode">How LaneShim sizes this buffer for an unprivileged program that set none (autotune or set).</param>
/// <param name="WindowBytes">The window a stream gets, in bytes of data in flight.</param>
/// <param name="TopsOutAtBps">The most a single stream carries: min(lane rate, window x 8 / RTT).</param>
/// <param name="LimitedBy">The checks (finding ids) that hold it below the lane rate, tightest first; empty when none.</param>
public sealed record DirectionLimit(BufferMode Mode, long WindowBytes, ulong TopsOutAtBps, IReadOnlyList<string> LimitedBy);
