// DoctorFinding.cs - one check's result in `laneshim doctor --json`, with the arithmetic and the fix.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>A finding; <see cref="Sysctl"/> is the setting its fix changes, or null.</summary>
internal sealed record DoctorFinding(string Id, string Scope, string Severity, string Measured, string Needed, string Why, string? Fix, DoctorSysctl? Sysctl);
