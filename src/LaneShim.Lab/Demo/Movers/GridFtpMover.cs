// GridFtpMover.cs - globus-url-copy pulling the 1 GB file from a GridFTP server in anonymous mode.
namespace LaneShim.Lab.Demo.Movers;

/// <summary>
/// globus-gridftp-server with anonymous access (no certificates), data ports 50000-50100 on the server; the
/// client opens the data connection (passive mode), so wrapping the client steers control and data flows. The
/// server forks per connection, so it is not wrapped. Hand-tuned: MODE E with 4 parallel streams and TCP buffers
/// of the BDP (-fast -p 4 -tcp-bs), what GridFTP's documentation recommends for a WAN.
/// </summary>
internal sealed class GridFtpMover : FileMover
{
    private const int Port = 2811;
    private static readonly DemoTool UrlCopy = new("/usr/bin/globus-url-copy", "globus-gass-copy-progs");
    private static readonly DemoTool ServerProgram = new("/usr/sbin/globus-gridftp-server", "globus-gridftp-server-progs");

    public override string Name => "gridftp";

    public override IReadOnlyList<DemoTool> Tools => [UrlCopy, ServerProgram];

    public override string ClientProgram => UrlCopy.Path;

    public override DemoFile Source(DemoContext context) => context.LargeFile;

    public override string Describe(DemoContext context) => $"gridftp: globus-url-copy pulls {Source(context).Size} from globus-gridftp-server";

    public override void Prepare(DemoContext context, CleanupStack cleanup)
    {
        // An empty configuration file of our own, so the system's /etc/gridftp.conf does not apply.
        File.WriteAllText(Path.Combine(context.MoverDirectory(Name), "gridftp.conf"), "# globus-gridftp-server for the LaneShim demo: everything is on the command line.\n");
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
        argv.AddRange([$"ftp://{context.ServerAddress}:{Port}{source.Path}", $"file://{Destination(context, source)}"]);
        return argv;
    }

    public override string Setup(DemoMode mode, DemoContext context) => mode switch
    {
        DemoMode.Laneshim => "client wrapped (control and passive data connections); server not (forks per connection)",
        DemoMode.HandTuned => $"-fast -p 4 -tcp-bs {DemoFormat.Invariant(context.BdpBytes)}, on the bypass",
        _ => "",
    };
}
