// DemoResultsRun.cs - one run in the demo's results.json: mover, mode, throughput, duration, whether it worked, and its server's end.
using System.Text.Json.Serialization;

namespace LaneShim.Lab.Demo;

/// <summary>
/// A run as results.json records it; <see cref="Mode"/> is the mode's name (plain, laneshim, hand-tuned);
/// <see cref="Server"/> what the server's end had, in laneshim runs (omitted otherwise).
/// </summary>
internal sealed record DemoResultsRun(string Mover, string Mode, double Mbps, double Seconds, bool Ok, string Note,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DemoResultsServer? Server = null);
