// DemoMode.cs - the three ways the demo runs each mover.
namespace LaneShim.Lab.Demo;

/// <summary>How a mover runs: as it ships, under `laneshim run`, or with an expert's flags.</summary>
internal enum DemoMode
{
    /// <summary>As it ships, on the default route (path 1, through the middlebox).</summary>
    Plain,

    /// <summary>The same command under `laneshim run`: the broker grants a lane and steers it onto the bypass.</summary>
    Laneshim,

    /// <summary>The tool's best flags, on the bypass (a static route for the run), so only tuning differs from the lane.</summary>
    HandTuned,
}
