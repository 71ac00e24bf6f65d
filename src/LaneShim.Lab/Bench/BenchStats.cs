// BenchStats.cs - medians and percentiles of samples (nearest rank, so every reported figure is a value that was measured).
namespace LaneShim.Lab.Bench;

/// <summary>Order statistics over samples.</summary>
internal static class BenchStats
{
    public static double Median(IEnumerable<double> samples) => Percentile(samples, 50);

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0-100); throws on no samples.</summary>
    public static double Percentile(IEnumerable<double> samples, double p)
    {
        double[] sorted = samples.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new BenchException("no samples");
        }
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
