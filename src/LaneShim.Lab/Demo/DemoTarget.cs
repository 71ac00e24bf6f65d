// DemoTarget.cs - one acceptance target of the demo and whether this run met it.
namespace LaneShim.Lab.Demo;

/// <summary>What was required, what was measured, and (when missed) why.</summary>
internal sealed record DemoTarget(string Mover, string Requirement, bool? Met, string Measured, string? Why = null);
