// LinkemuLocator.cs - finds the laneshim-linkemu binary: the flag, the environment, the install next to laneshim-lab, or a source tree's build.
namespace LaneShim.Lab.Lab;

/// <summary>Where the link emulator is.</summary>
internal static class LinkemuLocator
{
    public const string Program = "laneshim-linkemu";
    public const string EnvironmentVariable = "LANESHIM_LINKEMU";

    /// <summary>The emulator's absolute path; throws <see cref="LabException"/> listing where it looked.</summary>
    public static string Find(string? explicitPath)
    {
        string? chosen = explicitPath ?? NonEmpty(Environment.GetEnvironmentVariable(EnvironmentVariable));
        if (chosen is not null)
        {
            string full = Path.GetFullPath(chosen);
            return File.Exists(full) ? full : throw new LabException($"{full}: no such file (from {(explicitPath is not null ? "--linkemu" : EnvironmentVariable)})");
        }
        List<string> candidates = Candidates().ToList();
        foreach (string c in candidates)
        {
            if (File.Exists(c))
            {
                return c;
            }
        }
        throw new LabException($"cannot find {Program} (looked at {string.Join(", ", candidates)}); build it with `make -C lab/linkemu` or pass --linkemu PATH");
    }

    private static IEnumerable<string> Candidates()
    {
        // out/lab/laneshim-lab is what out/bin/laneshim-lab links to; build.sh puts the emulator in out/bin.
        var dirs = new List<string>();
        foreach (string? start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(Environment.ProcessPath) })
        {
            if (start is not null && !dirs.Contains(Path.GetFullPath(start)))
            {
                dirs.Add(Path.GetFullPath(start));
            }
        }
        foreach (string dir in dirs)
        {
            yield return Path.Combine(dir, Program);
            yield return Path.GetFullPath(Path.Combine(dir, "..", "bin", Program));
        }
        foreach (string dir in dirs)
        {
            for (string? d = dir; d is not null; d = Path.GetDirectoryName(d))
            {
                if (File.Exists(Path.Combine(d, "Shim.sln")))
                {
                    yield return Path.Combine(d, "out", "bin", Program);
                    yield return Path.Combine(d, "lab", "linkemu", "build", Program);
                    break;
                }
            }
        }
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            yield return Path.Combine(dir, Program);
        }
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
