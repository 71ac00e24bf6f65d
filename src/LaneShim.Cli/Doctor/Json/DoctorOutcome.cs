// DoctorOutcome.cs - what --apply or --revert did to the sysctl file and the live values.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>The file, what happened to it, its backup, and each value.</summary>
internal sealed record DoctorOutcome(string File, string Action, string? Backup, IReadOnlyList<DoctorValue> Values);
