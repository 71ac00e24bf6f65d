// DemoReport.cs - everything the demo measured: the lane's line rate, the RTT over the bypass, and every run.
namespace LaneShim.Lab.Demo;

/// <summary>The demo's results (results.json, the table and the chart are views of it); <paramref name="LabDefaultCc"/> is what a plain socket gets in the lab.</summary>
internal sealed record DemoReport(double LineRateMbps, double RttMs, IReadOnlyList<DemoRun> Runs, string LabDefaultCc = "")
{
    /// <summary>The run of a mover in a mode, or null when it was not run (a mover without hand-tuning flags).</summary>
    public DemoRun? Find(string mover, DemoMode mode) => Runs.FirstOrDefault(r => r.Mover == mover && r.Mode == mode);
}
