// DemoResultsFile.cs - the shape of the demo's results.json: the path's line rate and RTT, and one entry per run.
namespace LaneShim.Lab.Demo;

/// <summary>results.json as written by the demo and read by the mover benchmark (<see cref="DemoJson"/>).</summary>
internal sealed record DemoResultsFile(double LineRateMbps, double RttMs, IReadOnlyList<DemoResultsRun> Runs);
