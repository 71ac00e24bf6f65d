// Privileges.cs - honest skips: tests that need root say so, and in CI (root) they always run.
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Testing;

/// <summary>Guards for tests that need root or a host tool.</summary>
public static class Privileges
{
    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint geteuid();

    public static bool IsRoot => geteuid() == 0;

    /// <summary>Marks the test inconclusive when not root; CI runs as root, where this never skips.</summary>
    public static void RequireRoot(string why)
    {
        if (!IsRoot)
        {
            Assert.Inconclusive($"needs root: {why}");
        }
    }

    /// <summary>Fails (not skips) when a program the suite depends on is missing: build.sh installs it.</summary>
    public static void RequireProgram(string path)
    {
        if (!File.Exists(path))
        {
            Assert.Fail($"{path} is missing; ./build.sh installs it (run as root)");
        }
    }
}
