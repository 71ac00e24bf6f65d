// DoctorRevertDocument.cs - `laneshim doctor --revert --json`: the exit status and what was undone.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>What --revert did.</summary>
internal sealed record DoctorRevertDocument(int ExitCode, DoctorOutcome Reverted);
