// LabStatusReport.cs - everything `lab status` found out about a lab: its state, what exists, what runs, what was counted.
namespace LaneShim.Lab.Lab;

/// <summary>The lab as it is now; <see cref="Problems"/> says what is wrong (empty: healthy).</summary>
internal sealed record LabStatusReport(
    string Name,
    LabState? State,
    IReadOnlyList<LabNamespaceStatus> Namespaces,
    IReadOnlyList<LabLinkStatus> Links,
    MiddleboxCounters? Middlebox,
    IReadOnlyList<string> Problems)
{
    /// <summary>True when the lab's state file exists.</summary>
    public bool Up => State is not null;

    /// <summary>Up, with every namespace present and every emulator running.</summary>
    public bool Healthy => Up && Problems.Count == 0;
}
