// XrootdMover.cs - xrdcp pulling the 1 GB file from an XRootD server exporting the data directory.
namespace LaneShim.Lab.Demo.Movers;

/// <summary>
/// xrootd with a minimal configuration (one export, no security, no reverse DNS), running as nobody because it
/// refuses to run as root. In laneshim mode the server runs under `laneshim run` too (as nobody: the broker sets
/// what an unprivileged program may not). Hand-tuned: 4 parallel data streams (xrdcp -S 4).
/// </summary>
internal sealed class XrootdMover : FileMover
{
    private const int Port = 1094;
    private static readonly DemoTool Xrdcp = new("/usr/bin/xrdcp", "xrootd-client");
    private static readonly DemoTool Xrootd = new("/usr/bin/xrootd", "xrootd-server");

    public override string Name => "xrootd";

    public override IReadOnlyList<DemoTool> Tools => [Xrdcp, Xrootd];

    public override string ClientProgram => Xrdcp.Path;

    public override DemoFile Source(DemoContext context) => context.LargeFile;

    public override string Describe(DemoContext context) => $"xrootd: xrdcp pulls {Source(context).Size} from an XRootD server";

    public override void Prepare(DemoContext context, CleanupStack cleanup)
    {
        string dir = context.MoverDirectory(Name);
        string run = Directory.CreateDirectory(Path.Combine(dir, "run")).FullName;
        File.WriteAllText(Path.Combine(dir, "xrootd.cfg"), $"""
            # xrootd for the LaneShim demo: export the data directory, nothing else.
            xrd.port {Port}
            xrd.network nodnr
            all.export {context.DataDirectory}
            all.adminpath {run}/admin
            all.pidpath {run}

            """);
        // xrootd drops to this user and writes its admin and pid files there.
        Lab.LabTools.Check("giving the xrootd run directory to nobody", "/bin/chown", ["-R", "nobody", run]);
    }

    public override DemoServerSpec Server(DemoMode mode, DemoContext context)
    {
        string dir = context.MoverDirectory(Name);
        return new("xrootd", [Xrootd.Path, "-R", "nobody", "-c", Path.Combine(dir, "xrootd.cfg"),
            "-l", Path.Combine(dir, "run", "xrootd.log")], Port);
    }

    public override IReadOnlyList<string> Client(DemoMode mode, DemoContext context)
    {
        DemoFile source = Source(context);
        var argv = new List<string> { Xrdcp.Path, "--nopbar" };
        if (mode == DemoMode.HandTuned)
        {
            argv.AddRange(["--streams", "4"]);
        }
        argv.AddRange([$"root://{context.ServerAddress}:{Port}/{source.Path}", Destination(context, source)]);
        return argv;
    }

    public override string Setup(DemoMode mode, DemoContext context) => mode switch
    {
        DemoMode.Laneshim => "client and server under laneshim run",
        DemoMode.HandTuned => "--streams 4, on the bypass",
        _ => "",
    };
}
