// DoctorSysctlFix.cs - one sysctl change the report proposes, with the command that makes it.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>A key, its value and the command line.</summary>
internal sealed record DoctorSysctlFix(string Key, string Value, string Command);
