// DoctorValue.cs - one sysctl value --apply or --revert loaded.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>A key, its value before and after, and whether it loaded.</summary>
internal sealed record DoctorValue(string Key, string? Before, string Value, string Status, string? Message);
