// DoctorSysctl.cs - the sysctl a finding's fix sets.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>A key and the value the fix gives it.</summary>
internal sealed record DoctorSysctl(string Key, string Value);
