// DemoResultsFile.cs - the shape of the demo's results.json: the path's line rate and RTT, the lab's default cc, and one entry per run.
namespace LaneShim.Lab.Demo;

/// <summary>
/// results.json as written by the demo and read by the mover benchmark (<see cref="DemoJson"/>); <paramref name="LabDefaultCc"/>
/// is the congestion control a plain socket gets in the lab (absent in files from before issue 14: empty).
/// </summary>
internal sealed record DemoResultsFile(double LineRateMbps, double RttMs, IReadOnlyList<DemoResultsRun> Runs, string LabDefaultCc = "");
