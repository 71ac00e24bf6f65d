// Mover.cs - one legacy data mover in the demo: its server, its client command per mode, and how its goodput is measured.
namespace LaneShim.Lab.Demo;

/// <summary>
/// A mover runs three ways (<see cref="DemoMode"/>). Subclasses say which server to start for each mode, which
/// client command to run, and how to turn what the client did into goodput.
/// </summary>
internal abstract class Mover
{
    /// <summary>The name in results.json ("iperf3-w64k", "curl", ...).</summary>
    public abstract string Name { get; }

    /// <summary>What the mover does, for the progress header ("curl downloads 1.00 GB from nginx").</summary>
    public abstract string Describe(DemoContext context);

    /// <summary>Every program the mover needs, client and server.</summary>
    public abstract IReadOnlyList<DemoTool> Tools { get; }

    /// <summary>The program `laneshim run` wraps (checked for dynamic linking).</summary>
    public abstract string ClientProgram { get; }

    /// <summary>True for programs LD_PRELOAD cannot reach (static, Go): laneshim mode runs them under `laneshim run --bpf`.</summary>
    public virtual bool KernelPath => false;

    /// <summary>What the hand-tuned run changes around the tool (sysctls, say), undone by disposing; null for nothing.</summary>
    public virtual IDisposable? HandTune(DemoContext context) => null;

    /// <summary>Null when the tool has expert flags; otherwise why the hand-tuned run is omitted.</summary>
    public virtual string? NoHandTuning => null;

    /// <summary>Writes configs and keys into the mover's directory; pushes undo steps for anything outside it.</summary>
    public virtual void Prepare(DemoContext context, CleanupStack cleanup)
    {
    }

    /// <summary>The server to run for this mode.</summary>
    public abstract DemoServerSpec Server(DemoMode mode, DemoContext context);

    /// <summary>The client's command line (without the namespace and `laneshim run` prefix, which the demo adds).</summary>
    public abstract IReadOnlyList<string> Client(DemoMode mode, DemoContext context);

    /// <summary>What this mode changes, for the run's note ("-w 5025000 (the BDP)"); empty for none.</summary>
    public abstract string Setup(DemoMode mode, DemoContext context);

    /// <summary>How long the demo lets the client run before it stops it and counts what it moved.</summary>
    public virtual TimeSpan Limit(DemoMode mode, DemoContext context) =>
        mode == DemoMode.Plain ? context.Settings.PlainLimit : context.Settings.RunLimit;

    /// <summary>Bytes the client has delivered so far (called at the time limit, before the client is stopped).</summary>
    public virtual long BytesMoved(DemoContext context) => DestinationBytes(context);

    /// <summary>The run's goodput from the client's outcome.</summary>
    public abstract Goodput Measure(DemoMode mode, ClientOutcome outcome, DemoContext context);

    /// <summary>A limit the mover's own protocol puts on one transfer at this RTT, or null.</summary>
    public virtual ProtocolCap? Cap(DemoContext context) => null;

    /// <summary>Every byte in the destination directory, hidden temporary files included (rsync writes `.name.XXXXXX`).</summary>
    protected static long DestinationBytes(DemoContext context)
    {
        // Never through a link: only what the client wrote counts.
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        long total = 0;
        foreach (string file in Directory.EnumerateFiles(context.DestinationDirectory, "*", options))
        {
            try
            {
                total += new FileInfo(file).Length;
            }
            catch (IOException)
            {
                // renamed or removed while we looked
            }
        }
        return total;
    }

    /// <summary>Mbit/s of <paramref name="bytes"/> over <paramref name="seconds"/>.</summary>
    protected static double Mbps(long bytes, double seconds) => seconds > 0 ? bytes * 8 / seconds / 1e6 : 0;
}
