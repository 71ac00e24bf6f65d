// GridFtpMover.cs - globus-url-copy pulling the 1 GB file from a GridFTP server in anonymous mode, or uploading it.
namespace LaneShim.Lab.Demo.Movers;

/// <summary>
/// globus-gridftp-server with anonymous access (no certificates), data ports 50000-50100 on the server; the
/// client pulls the file or (<c>gridftp-push</c>) uploads it, and opens the data connection (passive mode). In laneshim mode the server runs under `laneshim run` too: its
/// child forked per connection listens for and accepts the data connection, whose end joins the client's lease. Hand-tuned: MODE E with 4 parallel streams and TCP buffers
/// of the BDP (-fast -p 4 -tcp-bs), what GridFTP's documentation recommends for a WAN.
/// </summary>
internal sealed class GridFtpMover(bool push = false) : FileMover
{
    private const int Port = 2811;
    private static readonly DemoTool UrlCopy = new("/usr/bin/globus-url-copy", "globus-gass-copy-progs");
    private static readonly DemoTool ServerProgram = new("/usr/sbin/globus-gridftp-server", "globus-gridftp-server-progs");

    public override string Name => push ? "gridftp-push" : "gridftp";

    public override IReadOnlyList<DemoTool> Tools => [UrlCopy, ServerProgram];

    public override string ClientProgram => UrlCopy.Path;

    public override DemoFile Source(DemoContext context) => context.LargeFile;

    public override string Describe(DemoContext context) => push
        ? $"{Name}: globus-url-copy uploads {Source(context).Size} to globus-gridftp-server"
        : $"{Name}: globus-url-copy pulls {Source(context).Size} from globus-gridftp-server";

    public override void Prepare(DemoContext context, CleanupStack cleanup)
    {
        // An empty configuration file of our own, so the system's /etc/gridftp.conf does not apply.
        File.WriteAllText(Path.Combine(context.MoverDirectory(Name), "gridftp.conf"), "# globus-gridftp-server for the LaneShim demo: everything is on the command line.\n");
        if (push && OperatingSystem.IsLinux())
        {
            // The anonymous user (nobody) writes the upload; the directory is the demo's own and emptied after every run.
            File.SetUnixFileMode(context.DestinationDirectory, (UnixFileMode)0x1ff /* 0777 */);
        }
    }

    public override DemoServerSpec Server(DemoMode mode, DemoContext context)
    {
        string dir = context.MoverDirectory(Name);
        return new("globus-gridftp-server", [ServerProgram.Path, "-c", Path.Combine(dir, "gridftp.conf"), "-aa", "-anonymous-user", "nobody",
            "-p", DemoFormat.Invariant(Port), "-hostname", context.ServerAddress, "-port-range", "50000,50100",
            "-l", Path.Combine(dir, "gridftp.log"), "-d", "ERROR,WARN"], Port);
    }

    public override IReadOnlyList<string> Client(DemoMode mode, DemoContext context)
    {
        DemoFile source = Source(context);
        var argv = new List<string> { UrlCopy.Path };
        if (mode == DemoMode.HandTuned)
        {
            argv.AddRange(["-fast", "-p", "4", "-tcp-bs", DemoFormat.Invariant(context.BdpBytes)]);
        }
        argv.AddRange(push
            ? [$"file://{source.Path}", $"ftp://{context.ServerAddress}:{Port}{Destination(context, source)}"]
            : [$"ftp://{context.ServerAddress}:{Port}{source.Path}", $"file://{Destination(context, source)}"]);
        return argv;
    }

    public override string Setup(DemoMode mode, DemoContext context) => mode switch
    {
        DemoMode.Laneshim => "client and server (and its per-connection child) under laneshim run",
        DemoMode.HandTuned => $"-fast -p 4 -tcp-bs {DemoFormat.Invariant(context.BdpBytes)}, on the bypass",
        _ => "",
    };
}
