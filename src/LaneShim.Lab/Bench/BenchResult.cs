// BenchResult.cs - one figure of results.json: value, unit, the baseline and ratio of its comparison, target and whether it was met.
namespace LaneShim.Lab.Bench;

/// <summary>
/// One named figure. <see cref="Value"/> is null when it could not be measured; then <see cref="Note"/> says why and
/// <see cref="Met"/> is false. A figure without a target is met when it was measured.
/// </summary>
internal sealed record BenchResult(string Name, double? Value, string Unit)
{
    /// <summary>The same quantity without LaneShim, measured in the same run, when the figure is a comparison.</summary>
    public double? Baseline { get; init; }

    /// <summary>With / without LaneShim, from the same run.</summary>
    public double? Ratio { get; init; }

    public double? Target { get; init; }

    public TargetKind Kind { get; init; } = TargetKind.AtMost;

    /// <summary>Why a figure is missing, or what a reader must know to read it (store, sample count, latency).</summary>
    public string? Note { get; init; }

    /// <summary>Extra numbers written next to the figure in results.json (e.g. p50_us, p99_us of a throughput).</summary>
    public IReadOnlyDictionary<string, object> Extra { get; init; } = new Dictionary<string, object>();

    /// <summary>False forces a miss although the value reaches the target (it was measured under the wrong conditions).</summary>
    public bool Valid { get; init; } = true;

    public bool Met => Value is double v && Valid && (Target is not double t || Kind switch
    {
        TargetKind.AtMost => v <= t,
        TargetKind.Below => v < t,
        _ => v >= t,
    });

    /// <summary>A figure whose prerequisite is missing: reported, not dropped, and not met.</summary>
    public static BenchResult Missing(string name, string unit, string why, double? target = null, TargetKind kind = TargetKind.AtMost) =>
        new(name, null, unit) { Target = target, Kind = kind, Note = why };
}
