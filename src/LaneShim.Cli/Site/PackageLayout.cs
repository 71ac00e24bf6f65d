// PackageLayout.cs - where the Debian package puts LaneShim, and where the CLI finds the shim and agent it preloads.
using System.Runtime.InteropServices;

namespace LaneShim.Cli.Site;

/// <summary>
/// The packaged layout: the shim and agent in the multiarch library directory (private to LaneShim, not on the
/// loader's path), the CLI in /usr/bin, the broker's unit in /lib/systemd/system (Debian 12 keeps units there). A site install from the package
/// (`laneshim install --site`) only adds the preload entry: the package owns every other file.
/// </summary>
internal static class PackageLayout
{
    /// <summary>The Debian multiarch triplet of this process's architecture.</summary>
    public static string Triplet => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "x86_64-linux-gnu",
        Architecture.Arm64 => "aarch64-linux-gnu",
        Architecture.Arm => "arm-linux-gnueabihf",
        Architecture.RiscV64 => "riscv64-linux-gnu",
        Architecture.Ppc64le => "powerpc64le-linux-gnu",
        Architecture.S390x => "s390x-linux-gnu",
        var other => other.ToString().ToLowerInvariant() + "-linux-gnu",
    };

    /// <summary>/usr/lib/TRIPLET/laneshim: liblaneshim.so with liblaneshim-agent.so next to it.</summary>
    public static string LibDir => $"/usr/lib/{Triplet}/laneshim";

    /// <summary>The packaged shim, the line a packaged site install adds to /etc/ld.so.preload.</summary>
    public static string Shim => LibDir + "/liblaneshim.so";

    /// <summary>The packaged CLI.</summary>
    public const string Cli = "/usr/bin/laneshim";

    /// <summary>The packaged broker unit.</summary>
    public const string Unit = "/lib/systemd/system/laneshim-broker.service";

    /// <summary>
    /// The directory holding the shim and agent this CLI uses: $LANESHIM_LIB_DIR, else ../lib next to the CLI (a build
    /// tree's out/, a /usr/local site install), else the packaged directory.
    /// </summary>
    public static string FindLibraries()
    {
        if (Environment.GetEnvironmentVariable("LANESHIM_LIB_DIR") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }
        string beside = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "lib"));
        return File.Exists(Path.Combine(beside, "liblaneshim.so")) ? beside : LibDir;
    }

    /// <summary>True when <paramref name="shim"/> is the packaged shim, so a site install must not copy files of its own.</summary>
    public static bool IsPackaged(string shim) => Path.GetFullPath(shim) == Shim;
}
