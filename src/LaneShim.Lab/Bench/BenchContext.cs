// BenchContext.cs - what every benchmark suite gets: the mode, the binaries under test, a private work directory and unique names.
namespace LaneShim.Lab.Bench;

/// <summary>The run's settings and locations. Names (namespaces, ports, sockets) are unique per harness process.</summary>
internal sealed class BenchContext
{
    /// <summary>`--quick`: fewer repetitions and one mover, for a run under 3 minutes.</summary>
    public required bool Quick { get; init; }

    /// <summary>The out/ tree: bin/laneshim, bin/laneshim-bench, lib/liblaneshim.so, lib/liblaneshim-agent.so.</summary>
    public required string OutTree { get; init; }

    /// <summary>The source tree (lab topology, demo policy).</summary>
    public required string SourceTree { get; init; }

    /// <summary>A temporary directory of this run, deleted at the end.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>Progress lines (stderr).</summary>
    public required TextWriter Log { get; init; }

    public required CancellationToken Cancel { get; init; }

    /// <summary>The product CLI (run, broker).</summary>
    public string Laneshim => Path.Combine(OutTree, "bin", "laneshim");

    /// <summary>The proving ground (lab up/down/topology): the lab is not the product's.</summary>
    public string LaneshimLab => Path.Combine(OutTree, "bin", "laneshim-lab");

    public string BenchBinary => Path.Combine(OutTree, "bin", "laneshim-bench");

    public string Shim => Path.Combine(OutTree, "lib", "liblaneshim.so");

    public string Agent => Path.Combine(OutTree, "lib", "liblaneshim-agent.so");

    /// <summary>A short tag unique to this harness process, for namespace and interface names (at most 6 characters).</summary>
    public string Tag { get; } = $"b{Environment.ProcessId % 100000}";

    /// <summary>Repetitions: the full count, or a tenth of it (at least <paramref name="min"/>) with --quick.</summary>
    public int Reps(int full, int min = 3) => Quick ? Math.Max(min, full / 10) : full;

    /// <summary>Throws <see cref="BenchException"/> unless the binaries the native benchmarks need exist (and, for namespaces, root).</summary>
    public void RequireNative(bool root = true)
    {
        foreach (string f in new[] { BenchBinary, Shim, Agent, Laneshim })
        {
            if (!File.Exists(f))
            {
                throw new BenchException($"{f} is missing: run ./build.sh bench (it builds everything first)");
            }
        }
        if (root && !Lab.ProcessTable.IsRoot)
        {
            throw new BenchException("needs root (network namespaces)");
        }
    }
}
