// ChildStartException.cs - the wrapped command could not be started (not found, not executable).
namespace LaneShim.Cli.Native;

/// <summary>posix_spawnp failed; <see cref="Errno"/> says why.</summary>
internal sealed class ChildStartException(string program, int errno)
    : Exception($"cannot run '{program}': {(errno == 2 ? "command not found" : errno == 13 ? "permission denied" : $"errno {errno}")}")
{
    public int Errno { get; } = errno;

    /// <summary>The shell's convention: 127 not found, 126 found but not runnable.</summary>
    public int ExitCode => Errno == 2 ? 127 : 126;
}
