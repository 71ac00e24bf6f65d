// KernelConfig.cs - whether this kernel has the fq qdisc: its build config, or its module list.
using System.IO.Compression;
using LaneShim.Core.Doctor;

namespace LaneShim.Cli.Doctor;

/// <summary>Reads /proc/config.gz or /boot/config-RELEASE, and /lib/modules/RELEASE.</summary>
internal static class KernelConfig
{
    /// <summary>fq support from the kernel config; a module counts only if /lib/modules has it (else it cannot be loaded).</summary>
    public static FqSupport Fq(string release)
    {
        string? value = Option("CONFIG_NET_SCH_FQ", release);
        if (value == "y" || ModuleListed(release, "modules.builtin", "sch_fq.ko"))
        {
            return FqSupport.BuiltIn;
        }

        if (ModuleListed(release, "modules.dep", "sch_fq.ko"))
        {
            return FqSupport.Module;
        }

        return value is null ? FqSupport.Unknown : FqSupport.Absent;
    }

    /// <summary>"y", "m", "n" (the "is not set" line) or null when no config could be read.</summary>
    public static string? Value(string name, string release) => Option(name, release);

    private static string? Option(string name, string release)
    {
        string? text = ReadConfig(release);
        if (text is null)
        {
            return null;
        }

        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return line[(name.Length + 1)..].Trim();
            }

            if (line == $"# {name} is not set")
            {
                return "n";
            }
        }

        return "n";
    }

    private static string? ReadConfig(string release)
    {
        try
        {
            using FileStream file = File.OpenRead("/proc/config.gz");
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
        }

        try
        {
            return File.ReadAllText($"/boot/config-{release}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool ModuleListed(string release, string list, string module)
    {
        try
        {
            return File.ReadLines(Path.Combine("/lib/modules", release, list))
                .Any(l => l.Split(':')[0].EndsWith("/" + module, StringComparison.Ordinal) || l.Split(':')[0].Contains("/" + module + ".", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
