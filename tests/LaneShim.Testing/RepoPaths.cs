// RepoPaths.cs - where the repository, the build output and the test scripts are, found from the test binary.
namespace LaneShim.Testing;

/// <summary>Absolute paths into the repository and its out/ tree.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The repository root (the directory holding Shim.sln).</summary>
    public static string Root => RootLazy.Value;

    public static string Out => Path.Combine(Root, "out");

    /// <summary>The product CLI: run, broker, status, doctor, install, uninstall.</summary>
    public static string Cli => Path.Combine(Out, "bin", "laneshim");

    /// <summary>The proving ground: lab, demo, bench.</summary>
    public static string Lab => Path.Combine(Out, "bin", "laneshim-lab");

    public static string Shim => Path.Combine(Out, "lib", "liblaneshim.so");

    public static string Agent => Path.Combine(Out, "lib", "liblaneshim-agent.so");

    public static string NativeBuild => Path.Combine(Root, "native", "build");

    /// <summary>A file under tests/ or elsewhere in the repository.</summary>
    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Debian's python, which has python3-grpcio; not a pyenv shim on PATH.</summary>
    public static string SystemPython => "/usr/bin/python3";

    private static string FindRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (System.IO.File.Exists(Path.Combine(dir, "Shim.sln")))
            {
                return dir;
            }
        }
        throw new InvalidOperationException($"no Shim.sln above {AppContext.BaseDirectory}");
    }
}
