// EmulatorStatsDirections.cs - the two directions of an emulator's stats file.
namespace LaneShim.Lab.Lab;

/// <summary>ab: from the link's first end to its second; ba: the reverse.</summary>
internal sealed record EmulatorStatsDirections(EmulatorDirectionStats Ab, EmulatorDirectionStats Ba);
