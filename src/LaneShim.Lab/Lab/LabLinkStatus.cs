// LabLinkStatus.cs - one link of a running lab: its parameters, its emulator's health and counters, its devices' counters.
namespace LaneShim.Lab.Lab;

/// <summary>A link as `lab status` shows it; EmulatorAlive is null for veth links.</summary>
internal sealed record LabLinkStatus(LabLink Link, bool? EmulatorAlive, EmulatorStats? Stats, InterfaceCounters? ACounters, InterfaceCounters? BCounters);
