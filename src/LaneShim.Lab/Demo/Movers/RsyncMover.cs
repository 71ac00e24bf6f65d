// RsyncMover.cs - an rsync client pulling the 1 GB file from an rsync daemon (rsync://, no ssh), or pushing it to one.
namespace LaneShim.Lab.Demo.Movers;

/// <summary>
/// rsync daemon in the server namespace; the client pulls one file, or (<c>rsync-push</c>) pushes it, when the
/// client is the sender. In laneshim mode the daemon runs under `laneshim
/// run` too: it accepts (the lane is set on the socket then), forks a child per connection and closes its copy, and
/// the lane lives with the child's connection. Hand-tuned sets the socket buffers to the BDP on both ends
/// (client --sockopts, daemon `socket options`) and whole-file mode.
/// </summary>
internal sealed class RsyncMover(bool push = false) : FileMover
{
    private const int Port = 8873;
    private const string Module = "data";
    private const string IncomingModule = "incoming";
    private static readonly DemoTool Rsync = new("/usr/bin/rsync", "rsync");

    public override string Name => push ? "rsync-push" : "rsync";

    public override IReadOnlyList<DemoTool> Tools => [Rsync];

    public override string ClientProgram => Rsync.Path;

    public override DemoFile Source(DemoContext context) => context.LargeFile;

    public override string Describe(DemoContext context) => push
        ? $"{Name}: pushes {Source(context).Size} to an rsync daemon"
        : $"{Name}: pulls {Source(context).Size} from an rsync daemon";

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
        [{IncomingModule}]
            path = {context.DestinationDirectory}
            read only = no
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
        argv.AddRange(push
            ? [source.Path, $"rsync://{context.ServerAddress}:{Port}/{IncomingModule}/"]
            : [$"rsync://{context.ServerAddress}:{Port}/{Module}/{Path.GetFileName(source.Path)}", context.DestinationDirectory + "/"]);
        return argv;
    }

    public override string Setup(DemoMode mode, DemoContext context) => mode switch
    {
        DemoMode.Laneshim => "client and daemon under laneshim run (the daemon forks per connection)",
        DemoMode.HandTuned => $"--sockopts SO_SNDBUF/SO_RCVBUF={DemoFormat.Invariant(context.BdpBytes)} on both ends, --whole-file, on the bypass",
        _ => "",
    };
}
