// PreloadBench.cs - preload_start_ratio and preload_idle_rss_added_kb: what the shim costs a process that never opens an eligible socket.
using System.Globalization;

namespace LaneShim.Lab.Bench;

/// <summary>
/// Start cost: laneshim-bench spawns /bin/true with the shim preloaded and with the least any preload library can be
/// (one symbol, no libc, two mappings: out/lib/laneshim-bench-floor-min.so) back to back, alternating which goes first;
/// <c>preload_start_ratio_to_floor</c> is the ratio of the two medians. <c>preload_start_ratio</c> (the shim over no
/// preload at all) is kept beside it without a target: even the one-symbol library misses 1.02 on a VM. Idle memory:
/// VmRSS of a process that loads the shim and makes no socket, against the same process without it, interleaved.
/// </summary>
internal sealed class PreloadBench : BenchSuite
{
    public override string Key => "preload";

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) =>
    [
        new("preload_start_ratio_to_floor", null, "ratio") { Target = 1.03 },
        new("preload_start_ratio", null, "ratio"),
        new("preload_idle_rss_added_kb", null, "KiB") { Target = 200, Kind = TargetKind.Below },
    ];

    // The spawn ratio of a library next to the shim (out/lib) over no preload, or over the baseline library; null when not built.
    private static (double Ratio, double Loaded, double Baseline)? FloorRatio(BenchContext context, Dictionary<string, string> env, int pairs, string name, string? baseline = null)
    {
        string library = name.Contains('/') ? name : Path.Combine(Path.GetDirectoryName(context.Shim)!, name);
        string? against = baseline is null ? null : Path.Combine(Path.GetDirectoryName(context.Shim)!, baseline);
        if (!File.Exists(library) || (against is not null && !File.Exists(against)))
        {
            return null;
        }

        (List<double> plain, List<double> loaded) = Spawns(BenchProcess.Run(
            BenchProcess.WithEnv(env, [context.BenchBinary, "spawn", $"{pairs}", library, "/bin/true", .. against is null ? Array.Empty<string>() : [against]]),
            TimeSpan.FromMinutes(5), context.Cancel));
        return (BenchStats.Median(loaded) / BenchStats.Median(plain), BenchStats.Median(loaded), BenchStats.Median(plain));
    }

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        context.RequireNative(root: false); // no namespaces: runs as any user
        Dictionary<string, string> env = ShimEnvironment.Without(context);
        int pairs = context.Quick ? 2000 : 5000; // the ratio to the floor is a median of at least 2,000 pairs
        string output = BenchProcess.Run(BenchProcess.WithEnv(env, context.BenchBinary, "spawn", $"{pairs}", context.Shim, "/bin/true"),
            TimeSpan.FromMinutes(5), context.Cancel);
        (List<double> plain, List<double> shim) = Spawns(output);
        // The floor: a library that does nothing, linked like the shim. Loading any preload costs its mappings and
        // page faults; what the shim adds beyond that is its own.
        double? floorRatio = FloorRatio(context, env, pairs, "laneshim-bench-floor.so")?.Ratio;
        // And the least any preload library can be (one symbol, no libc, two mappings): even that misses 1.02 over no
        // preload on this VM, so the target compares the shim with it, pair by pair.
        double? minimalRatio = FloorRatio(context, env, pairs, "laneshim-bench-floor-min.so")?.Ratio;
        var toFloor = FloorRatio(context, env, pairs, context.Shim, "laneshim-bench-floor-min.so");

        var rssPlain = new List<double>();
        var rssShim = new List<double>();
        Dictionary<string, string> withShim = ShimEnvironment.With(context, null);
        for (int i = 0; i < context.Reps(60, 15); i++)
        {
            rssPlain.Add(Rss(BenchProcess.Run(BenchProcess.WithEnv(env, context.BenchBinary, "once", "127.0.0.1", "-"), TimeSpan.FromSeconds(10), context.Cancel)));
            rssShim.Add(Rss(BenchProcess.Run(BenchProcess.WithEnv(withShim, context.BenchBinary, "once", "127.0.0.1", "-"), TimeSpan.FromSeconds(10), context.Cancel)));
        }
        double basePlain = BenchStats.Median(plain), baseRss = BenchStats.Median(rssPlain), shimRss = BenchStats.Median(rssShim);
        return
        [
            toFloor is var (ratio, loaded, floor)
                ? new("preload_start_ratio_to_floor", ratio, "ratio")
                {
                    Baseline = floor,
                    Ratio = ratio,
                    Target = 1.03,
                    Note = $"posix_spawn+wait of /bin/true: {loaded:0.0} us with the shim vs {floor:0.0} us with the one-symbol floor library " +
                        $"(no libc, two mappings); medians of {pairs} back-to-back pairs, alternating which goes first; the shim is linked -z now",
                }
                : BenchResult.Missing("preload_start_ratio_to_floor", "ratio", "not measured: out/lib/laneshim-bench-floor-min.so is missing", 1.03),
            new("preload_start_ratio", BenchStats.Median(shim) / basePlain, "ratio")
            {
                Baseline = basePlain,
                Ratio = BenchStats.Median(shim) / basePlain,
                Note = $"posix_spawn+wait of /bin/true: {BenchStats.Median(shim):0} us with the shim vs {basePlain:0} us (baseline) without; medians of {pairs} back-to-back pairs"
                    + (floorRatio is double f ? $"; floor: an empty library linked the same way gives {f:0.000} on this host" : "; floor library missing")
                    + (minimalRatio is double m ? $", a one-symbol library without libc (two mappings) {m:0.000}" : ""),
                Extra = new Dictionary<string, object?> { ["floor_ratio"] = floorRatio is double fr ? Math.Round(fr, 4) : null, ["floor_min_ratio"] = minimalRatio is double mr ? Math.Round(mr, 4) : null }
                    .Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!),
            },
            new("preload_idle_rss_added_kb", shimRss - baseRss, "KiB")
            {
                Baseline = baseRss,
                Ratio = shimRss / baseRss,
                Target = 200,
                Kind = TargetKind.Below,
                Note = $"VmRSS of a process that makes no socket: {shimRss:0} KiB with the shim, {baseRss:0} KiB without (median of {rssPlain.Count} each)",
            },
        ];
    }

    private static (List<double> Plain, List<double> Preloaded) Spawns(string output)
    {
        var plain = new List<double>();
        var preloaded = new List<double>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(' ');
            (f[0] == "shim" ? preloaded : plain).Add(double.Parse(f[1], CultureInfo.InvariantCulture) / 1000);
        }
        return (plain, preloaded);
    }

    private static double Rss(string once) => double.Parse(once.Trim().Split(' ')[1], CultureInfo.InvariantCulture);
}
