// BpfCheck.cs - one thing the BPF lane path needs from the host, whether it is there, and what to do if not.
namespace LaneShim.Cli.Doctor;

/// <summary>A readiness check of the kernel lane path.</summary>
/// <param name="Name">What is checked, e.g. "cgroup v2".</param>
/// <param name="Ok">Whether the host has it.</param>
/// <param name="Detail">What was found, and when missing, the fix.</param>
internal sealed record BpfCheck(string Name, bool Ok, string Detail);
