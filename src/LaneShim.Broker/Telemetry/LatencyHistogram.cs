// LatencyHistogram.cs - a lock-free cumulative histogram of request durations, Prometheus style.
namespace LaneShim.Broker.Telemetry;

/// <summary>Fixed upper bounds in seconds; observations are counted in the first bucket they fit (cumulated on output).</summary>
public sealed class LatencyHistogram
{
    /// <summary>Bounds from 100 µs to 1 s: an agent's deadline is 20 ms, so the interesting part is below it.</summary>
    public static readonly double[] DefaultBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1];

    private readonly double[] _bounds;
    private readonly long[] _counts;
    private long _sumTicks;

    /// <summary>Creates an empty histogram.</summary>
    public LatencyHistogram(double[]? bounds = null)
    {
        _bounds = bounds ?? DefaultBounds;
        _counts = new long[_bounds.Length + 1];
    }

    /// <summary>Counts one duration.</summary>
    public void Observe(TimeSpan duration)
    {
        double seconds = duration.TotalSeconds;
        int i = 0;
        while (i < _bounds.Length && seconds > _bounds[i])
        {
            i++;
        }
        Interlocked.Increment(ref _counts[i]);
        Interlocked.Add(ref _sumTicks, duration.Ticks);
    }

    /// <summary>Writes name_bucket (cumulative, with le="+Inf"), name_sum and name_count.</summary>
    public void WriteTo(PrometheusWriter writer, string name)
    {
        long cumulative = 0;
        for (int i = 0; i < _bounds.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            writer.Sample(name + "_bucket", cumulative, ("le", PrometheusWriter.FormatValue(_bounds[i])));
        }
        cumulative += Interlocked.Read(ref _counts[^1]);
        writer.Sample(name + "_bucket", cumulative, ("le", "+Inf"));
        writer.Sample(name + "_sum", TimeSpan.FromTicks(Interlocked.Read(ref _sumTicks)).TotalSeconds);
        writer.Sample(name + "_count", cumulative);
    }
}
