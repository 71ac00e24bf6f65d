// LabTeardownResult.cs - what `lab down` found and removed, and what it could not.
namespace LaneShim.Lab.Lab;

/// <summary>The outcome of <see cref="LabTeardown.Down"/>; <see cref="Problems"/> empty means nothing is left.</summary>
internal sealed record LabTeardownResult(string Name, bool HadState, int StoppedProcesses, int DeletedNamespaces, IReadOnlyList<string> Problems)
{
    /// <summary>False when there was no trace of the lab.</summary>
    public bool FoundAnything => HadState || StoppedProcesses > 0 || DeletedNamespaces > 0;
}
