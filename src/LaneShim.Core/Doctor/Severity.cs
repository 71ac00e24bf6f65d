// Severity.cs - how much a doctor finding matters: fine, worth a look, or a cap on a lane's throughput.
namespace LaneShim.Core.Doctor;

/// <summary>How much a <see cref="Finding"/> matters. Ordered: a larger value is worse.</summary>
public enum Severity
{
    /// <summary>The host allows what the lane needs.</summary>
    Ok = 0,

    /// <summary>Worth fixing, but the lane still reaches its rate (or only programs outside LaneShim suffer).</summary>
    Warn = 1,

    /// <summary>A single stream on this lane cannot reach the lane's rate until this is fixed.</summary>
    LimitsThroughput = 2,
}
