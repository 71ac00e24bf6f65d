// ToolOutput.cs - how a system tool ended and what it printed.
namespace LaneShim.Lab.Lab;

/// <summary>Exit code (null: killed at its deadline) and output of a tool run.</summary>
internal sealed record ToolOutput(int? ExitCode, string Stdout, string Stderr);
