// RcloneMover.cs - rclone (a Go program) copying the 1 GB file from `rclone serve http`: the mover LD_PRELOAD cannot
// reach, given lanes by the kernel (BPF) path on both ends.
using System.Globalization;

namespace LaneShim.Lab.Demo.Movers;

/// <summary>
/// rclone copy from rclone serve http in the server namespace. Both are Go programs: their sockets never pass through
/// libc, so `laneshim run --bpf` puts each in the broker's lane path cgroup, where the kernel tunes them before the SYN
/// (client) and on accept (server) and the broker steers them from the connect reports. rclone has no socket-buffer
/// flag, so hand-tuned is the best an expert can do around it: the namespaces' tcp_rmem/tcp_wmem ceilings raised to
/// cover the BDP and both ends on the bypass.
/// </summary>
internal sealed class RcloneMover : FileMover
{
    private const int Port = 8090;
    private static readonly DemoTool Rclone = new("/usr/bin/rclone", "rclone");

    public override string Name => "rclone";

    public override IReadOnlyList<DemoTool> Tools => [Rclone];

    public override string ClientProgram => Rclone.Path;

    public override bool KernelPath => true;

    public override DemoFile Source(DemoContext context) => context.LargeFile;

    public override string Describe(DemoContext context) => $"rclone: copies {Source(context).Size} over HTTP from rclone serve http (both Go, both on the BPF lane path)";

    public override void Prepare(DemoContext context, CleanupStack cleanup) => File.WriteAllText(Config(context), "# rclone for the LaneShim demo: no remotes, flags only\n");

    public override DemoServerSpec Server(DemoMode mode, DemoContext context) =>
        new("rclone serve http", [Rclone.Path, "serve", "http", context.DataDirectory, "--addr", $"{context.ServerAddress}:{Port}", "--config", Config(context)], Port,
            KernelPath: true);

    public override IReadOnlyList<string> Client(DemoMode mode, DemoContext context) =>
        // One stream: rclone's multi-thread download preallocates the file, and the demo counts what arrived by its size.
        [Rclone.Path, "copy", "--config", Config(context), "--multi-thread-streams", "0", "--http-url", $"http://{context.ServerAddress}:{Port}",
            $":http:{Path.GetFileName(Source(context).Path)}", context.DestinationDirectory];

    public override string Setup(DemoMode mode, DemoContext context) => mode switch
    {
        DemoMode.Laneshim => "both ends under laneshim run --bpf (kernel lane path)",
        DemoMode.HandTuned => $"tcp_rmem/tcp_wmem ceilings {DemoFormat.Invariant(Ceiling(context))} in both namespaces (4 x the BDP); rclone has no buffer flag; on the bypass",
        _ => "",
    };

    /// <summary>Raises the client's and server's autotuning ceilings for the hand-tuned run.</summary>
    public override IDisposable? HandTune(DemoContext context)
    {
        string ceiling = Ceiling(context).ToString(CultureInfo.InvariantCulture);
        return NamespaceSysctls.Set([context.Lab.Namespaces.Client, context.Lab.Namespaces.Server], new Dictionary<string, string>
        {
            ["net.ipv4.tcp_rmem"] = $"4096 131072 {ceiling}",
            ["net.ipv4.tcp_wmem"] = $"4096 16384 {ceiling}",
        });
    }

    // The kernel counts about twice the payload against a buffer; twice that again leaves room for the queue's RTT.
    private static long Ceiling(DemoContext context) => Math.Max(4 * context.BdpBytes, 16L << 20);

    private string Config(DemoContext context) => Path.Combine(context.MoverDirectory(Name), "rclone.conf");
}
