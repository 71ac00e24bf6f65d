// DemoResultsRun.cs - one run in the demo's results.json: mover, mode, throughput, duration, and whether it worked.
namespace LaneShim.Lab.Demo;

/// <summary>A run as results.json records it; <see cref="Mode"/> is the mode's name (plain, laneshim, hand-tuned).</summary>
internal sealed record DemoResultsRun(string Mover, string Mode, double Mbps, double Seconds, bool Ok, string Note);
