// FileMover.cs - a mover that copies a test file to the destination directory: goodput is bytes written over wall time.
namespace LaneShim.Lab.Demo;

/// <summary>
/// Goodput = bytes at the destination / the client's wall time (process start to exit, so `laneshim run`'s own
/// start-up counts against the lane). A run stopped at its time limit counts the bytes written by then.
/// </summary>
internal abstract class FileMover : Mover
{
    /// <summary>The file this mover copies.</summary>
    public abstract DemoFile Source(DemoContext context);

    public override Goodput Measure(DemoMode mode, ClientOutcome outcome, DemoContext context)
    {
        DemoFile source = Source(context);
        double seconds = outcome.Elapsed.TotalSeconds;
        if (outcome.Capped)
        {
            long moved = Math.Max(0, outcome.BytesAtCap);
            string limited = $"stopped at the {DemoFormat.Fixed(Limit(mode, context).TotalSeconds, 0)} s limit after {DemoFormat.Bytes(moved)} of {source.Size}";
            return moved > 0
                ? new Goodput(true, Mbps(moved, seconds), seconds, limited, TimeLimited: true)
                : Goodput.Failed($"{limited}: nothing arrived ({outcome.LastWords()})", seconds);
        }
        long bytes = DestinationBytes(context);
        if (outcome.ExitCode != 0)
        {
            return Goodput.Failed($"exit {outcome.ExitCode} after {DemoFormat.Bytes(bytes)}: {outcome.LastWords()}", seconds);
        }
        if (bytes != source.Bytes)
        {
            return Goodput.Failed($"exit 0 but {DemoFormat.Bytes(bytes)} of {source.Size} arrived", seconds);
        }
        return new Goodput(true, Mbps(bytes, seconds), seconds, $"{source.Size} in {DemoFormat.Seconds(seconds)}");
    }

    /// <summary>Where the client writes its copy.</summary>
    protected static string Destination(DemoContext context, DemoFile source) => Path.Combine(context.DestinationDirectory, Path.GetFileName(source.Path));
}
