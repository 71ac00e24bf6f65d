// DemoModeNames.cs - the names results.json and the table use for each mode.
namespace LaneShim.Lab.Demo;

/// <summary>Mode names as they appear in results.json ("plain", "laneshim", "hand-tuned").</summary>
internal static class DemoModeNames
{
    public static readonly IReadOnlyList<DemoMode> All = [DemoMode.Plain, DemoMode.Laneshim, DemoMode.HandTuned];

    public static string Name(this DemoMode mode) => mode switch
    {
        DemoMode.Plain => "plain",
        DemoMode.Laneshim => "laneshim",
        DemoMode.HandTuned => "hand-tuned",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };
}
