// ProcessResult.cs - how a finished process ended and what it printed.
namespace LaneShim.Testing;

/// <summary>Exit code and captured output of a finished process.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>Everything the process printed, for assertion messages.</summary>
    public string Describe() => $"exit {ExitCode} after {Elapsed.TotalMilliseconds:0} ms\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
