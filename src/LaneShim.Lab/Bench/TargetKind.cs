// TargetKind.cs - which side of its target a benchmark figure must fall on.
namespace LaneShim.Lab.Bench;

/// <summary>How a figure is compared with its target.</summary>
internal enum TargetKind
{
    /// <summary>The value must not exceed the target (costs, ratios of costs).</summary>
    AtMost,

    /// <summary>The value must be below the target (strictly).</summary>
    Below,

    /// <summary>The value must reach the target (throughputs).</summary>
    AtLeast,
}
