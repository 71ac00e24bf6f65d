// LabNamespaceStatus.cs - whether one of a lab's namespaces exists.
namespace LaneShim.Lab.Lab;

/// <summary>A lab namespace by role, and whether `ip netns list` has it.</summary>
internal sealed record LabNamespaceStatus(string Name, string Role, bool Present);
