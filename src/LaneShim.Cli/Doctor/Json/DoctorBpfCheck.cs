// DoctorBpfCheck.cs - one requirement of the BPF lane path in `laneshim doctor --json`: name, ok, what was found or the fix.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>One readiness check of the kernel lane path.</summary>
/// <param name="Name">What is checked, e.g. "cgroup v2".</param>
/// <param name="Ok">Whether the host has it.</param>
/// <param name="Detail">What was found, and when missing, the fix.</param>
internal sealed record DoctorBpfCheck(string Name, bool Ok, string Detail);
