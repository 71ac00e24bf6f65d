// RsyncMover.cs - an rsync client pulling the 1 GB file from an rsync daemon (rsync://, no ssh).
namespace LaneShim.Lab.Demo.Movers;

/// <summary>
/// rsync daemon in the server namespace; the client pulls one file. The daemon is not wrapped: it forks a child
/// per connection, which the shim leaves alone. Hand-tuned sets the socket buffers to the BDP on both ends
/// (client --sockopts, daemon `socket options`) and whole-file mode.
/// </summary>
internal sealed class RsyncMover : FileMover
{
    private const int Port = 8873;
    private const string Module = "data";
    private static readonly DemoTool Rsync = new("/usr/bin/rsync", "rsync");

    public override string Name => "rsync";

    public override IReadOnlyList<DemoTool> Tools => [Rsync];

    public override string ClientProgram => Rsync.Path;

    public override DemoFile Source(DemoContext context) => context.LargeFile;

    public override string Describe(DemoContext context) => $"rsync: pulls {Source(context).Size} from an rsync daemon";

    public override void Prepare(DemoContext context, CleanupStack cleanup)
    {
        string dir = context.MoverDirectory(Name);
        File.WriteAllText(Config(context, tuned: false), Daemon(context, dir, socketOptions: null));
        File.WriteAllText(Config(context, tuned: true), Daemon(context, dir, $"SO_SNDBUF={context.BdpBytes},SO_RCVBUF={context.BdpBytes}"));
    }

    private static string Daemon(DemoContext context, string dir, string? socketOptions) =>
        $"""
        # rsyncd for the LaneShim demo: one read-only module, the data directory.
        pid file = {dir}/rsyncd.pid
        log file = {dir}/rsyncd.log
        use chroot = no
        {(socketOptions is null ? "" : $"socket options = {socketOptions}")}
        [{Module}]
            path = {context.DataDirectory}
            read only = yes
            uid = root
            gid = root

        """;

    private string Config(DemoContext context, bool tuned) => Path.Combine(context.MoverDirectory(Name), tuned ? "rsyncd-tuned.conf" : "rsyncd.conf");

    public override DemoServerSpec Server(DemoMode mode, DemoContext context) =>
        new("rsync daemon", [Rsync.Path, "--daemon", "--no-detach", $"--config={Config(context, mode == DemoMode.HandTuned)}",
            "--port", DemoFormat.Invariant(Port), "--address", context.ServerAddress], Port);

    public override IReadOnlyList<string> Client(DemoMode mode, DemoContext context)
    {
        DemoFile source = Source(context);
        var argv = new List<string> { Rsync.Path };
        if (mode == DemoMode.HandTuned)
        {
            argv.AddRange([$"--sockopts=SO_SNDBUF={context.BdpBytes},SO_RCVBUF={context.BdpBytes}", "--whole-file"]);
        }
        argv.AddRange([$"rsync://{context.ServerAddress}:{Port}/{Module}/{Path.GetFileName(source.Path)}", context.DestinationDirectory + "/"]);
        return argv;
    }

    public override string Setup(DemoMode mode, DemoContext context) => mode switch
    {
        DemoMode.Laneshim => "client wrapped; daemon not (forks per connection)",
        DemoMode.HandTuned => $"--sockopts SO_SNDBUF/SO_RCVBUF={DemoFormat.Invariant(context.BdpBytes)} on both ends, --whole-file, on the bypass",
        _ => "",
    };
}
