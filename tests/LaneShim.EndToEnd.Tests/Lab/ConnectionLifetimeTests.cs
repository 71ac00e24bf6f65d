// ConnectionLifetimeTests.cs - issue 14, acceptance 2 and 3: a lane lives as long as its connection, whichever process
// holds it (accept-fork-close, nginx's workers, SCM_RIGHTS, exec), ends within 2 s of the last holder closing or being
// killed, and both ends under the shim share one lease. Real programs, the lab, the broker's rules in the routers.
using System.Diagnostics;
using System.Globalization;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Lab;

[TestClass]
public sealed class ConnectionLifetimeTests
{
    private const string Policy = "class lane rate=1gbit rtt=40ms cc=bbr ttl=10m bulk=yes\nrule -> lane\n";
    private const long Bytes = 50_000_000;
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(2);
    private static LabBroker? _lab;
    private static int _port = 5400;

    [ClassInitialize]
    public static void SetUp(TestContext context)
    {
        if (Privileges.IsRoot)
        {
            _lab = new LabBroker($"lsc{Environment.ProcessId % 1000}", Policy);
        }
    }

    [ClassCleanup]
    public static void TearDown() => _lab?.Dispose();

    private static LabBroker Lab()
    {
        Privileges.RequireRoot("network namespaces, TUN devices, nftables and pidfd_getfd");
        Privileges.RequireProgram(RepoPaths.SystemPython);
        return _lab!;
    }

    private static string Holders => RepoPaths.File("tests", "e2e", "holders.py");

    [TestMethod]
    public void AcceptForkParentCloses_ChildSends50MB_LaneStaysOnTheBypass_AndEndsWithin2sOfTheChildClosing() =>
        HandedOn("fork", kill: false, wrapClient: false);

    [TestMethod]
    public void AcceptForkParentCloses_KillMinus9OfTheChild_EndsTheLaneWithin2s_BothEndsWrapped() =>
        HandedOn("fork", kill: true, wrapClient: true);

    [TestMethod]
    public void DescriptorPassedOverScmRights_LaneLivesUntilTheReceiverCloses() =>
        HandedOn("scm", kill: false, wrapClient: false);

    [TestMethod]
    public void DescriptorInheritedAcrossExec_LaneLivesUntilTheNewImageCloses() =>
        HandedOn("exec", kill: false, wrapClient: true);

    // The server under the shim accepts, hands the connection on (mode) and lets go of it; whoever holds it sends 50 MB.
    private static void HandedOn(string mode, bool kill, bool wrapClient)
    {
        LabBroker lab = Lab();
        int port = Interlocked.Increment(ref _port);
        string go = Path.Combine(lab.Directory, $"go-{port}");
        using var server = new BackgroundProcess("/sbin/ip", ["netns", "exec", lab.Lab.Namespaces.Server, RepoPaths.SystemPython, Holders, "server",
            port.ToString(CultureInfo.InvariantCulture), "--mode", mode, "--bytes", Bytes.ToString(CultureInfo.InvariantCulture), .. kill ? ["--hold"] : Array.Empty<string>()], lab.Shim());
        server.WaitForOutput("listening", TimeSpan.FromSeconds(20));
        long mboxBefore = lab.MiddleboxPackets;

        using var client = new BackgroundProcess("/sbin/ip", ["netns", "exec", lab.Lab.Namespaces.Client, RepoPaths.SystemPython, Holders, "client",
            lab.Lab.ServerAddress, port.ToString(CultureInfo.InvariantCulture), "--expect", Bytes.ToString(CultureInfo.InvariantCulture), .. kill ? Array.Empty<string>() : ["--go", go]],
            wrapClient ? lab.Shim() : null); // after a kill the client reads to the end at once, and closes its end too
        client.WaitForOutput($"received {Bytes}", TimeSpan.FromSeconds(60));
        server.WaitForOutput("handed", TimeSpan.FromSeconds(5));

        // The process that asked for the lane has closed its copy (and released it); another process sends on.
        int holder = HolderPid(server.Stdout);
        if (mode != "exec")
        {
            Assert.AreNotEqual(server.Pid, holder, "the asking process still holds the connection");
        }
        Lease lease = lab.LeasesOn(port).SingleOrDefault() ?? throw new AssertFailedException($"no lease for port {port} after the asking process let go\n{lab.Log}");
        // (Whether its release reached the broker within its deadline does not matter: the kernel decides.)
        Holder serverEnd = lease.Holders.Single(h => h.Direction == Direction.Inbound);
        Assert.IsFalse(serverEnd.Ended, $"the server's end counted as gone while {holder} held it: {lease}");
        Assert.HasCount(wrapClient ? 2 : 1, lease.Holders, $"both ends of one connection should share one lease: {lease}\n{lab.Log}");
        int clientPort = lab.ClientPort(lease);
        Assert.IsTrue(lab.Steers(clientPort), $"the rules went with the asking process's release\n{lab.Log}");
        long mbox = lab.MiddleboxPackets - mboxBefore;
        Assert.IsLessThan(100, mbox, $"the middlebox forwarded {mbox} packets: the 50 MB did not cross the bypass");

        var sw = Stopwatch.StartNew();
        if (kill)
        {
            ProcessRunner.Check("/bin/kill", "-9", holder.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            File.WriteAllText(go, ""); // the client sends its byte; the holder closes
        }
        while (lab.LeasesOn(port).Count > 0 || lab.Steers(clientPort))
        {
            Assert.IsLessThan(Within, sw.Elapsed, $"lease or rules still there {sw.Elapsed.TotalSeconds:0.0} s after the last holder {(kill ? "was killed" : "closed")}\n{lab.Log}");
            Thread.Sleep(20); // polling interval
        }
        client.WaitForOutput("eof", TimeSpan.FromSeconds(10));
    }

    private static int HolderPid(string output) =>
        output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("holder ", StringComparison.Ordinal))
            .Select(l => int.Parse(l["holder ".Length..], CultureInfo.InvariantCulture)).Single();

    [TestMethod]
    public void NginxWorkerUnderTheShim_CurlToo_OneLeaseBothEnds_WorkerSocketHasTheLane_GoneWithin2sOfCurlClosing()
    {
        LabBroker lab = Lab();
        Privileges.RequireProgram("/usr/sbin/nginx");
        int port = Interlocked.Increment(ref _port);
        string dir = Directory.CreateDirectory(Path.Combine(lab.Directory, $"nginx-{port}")).FullName;
        string data = Directory.CreateDirectory(Path.Combine(dir, "data")).FullName;
        File.SetUnixFileMode(lab.Directory, (UnixFileMode)0x1ed);
        using (FileStream file = File.Create(Path.Combine(data, "file.bin")))
        {
            file.SetLength(100_000_000);
        }
        File.WriteAllText(Path.Combine(dir, "nginx.conf"), $$"""
            worker_processes 2;
            user root;
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                sendfile on;
                client_body_temp_path {{dir}}/body;
                proxy_temp_path {{dir}}/proxy;
                fastcgi_temp_path {{dir}}/fastcgi;
                uwsgi_temp_path {{dir}}/uwsgi;
                scgi_temp_path {{dir}}/scgi;
                server { listen {{lab.Lab.ServerAddress}}:{{port}}; root {{data}}; }
            }
            """);
        using var nginx = new BackgroundProcess("/sbin/ip", ["netns", "exec", lab.Lab.Namespaces.Server, "/usr/sbin/nginx", "-c", Path.Combine(dir, "nginx.conf"),
            "-p", dir, "-e", Path.Combine(dir, "error.log"), "-g", "daemon off;"], lab.Shim());
        nginx.WaitUntil(() => File.Exists(Path.Combine(dir, "nginx.pid")) && ServerSockets(lab, port, listening: true).Length > 0, TimeSpan.FromSeconds(20), "nginx listening");
        int master = int.Parse(File.ReadAllText(Path.Combine(dir, "nginx.pid")).Trim(), CultureInfo.InvariantCulture);

        // 100 MB at 20 MB/s: five seconds to look at the worker's socket while it sends.
        using var curl = new BackgroundProcess("/sbin/ip", ["netns", "exec", lab.Lab.Namespaces.Client, "/usr/bin/curl", "-sS", "--limit-rate", "20M", "-o", "/dev/null",
            "-w", "%{size_download}\n", $"http://{lab.Lab.ServerAddress}:{port}/file.bin"], lab.Shim());
        Lease? lease = null;
        curl.WaitUntil(() => (lease = lab.LeasesOn(port).FirstOrDefault(l => l.Holders.Count == 2)) is not null, TimeSpan.FromSeconds(10), "one lease held by both ends");
        Assert.HasCount(1, lab.LeasesOn(port), $"one connection, one lease: {string.Join("\n", lab.LeasesOn(port))}");
        Holder worker = lease!.Holders.Single(h => h.Direction == Direction.Inbound);
        Assert.AreNotEqual((uint)master, worker.Pid, "the lane was asked for by the master, not by the worker that accepted");
        int clientPort = lab.ClientPort(lease);
        Assert.IsTrue(lab.Steers(clientPort), $"no rules for the lease\n{lab.Log}");

        string[] sockets = ServerSockets(lab, port, listening: false);
        string socket = sockets.SingleOrDefault(s => s.Contains($":{clientPort}", StringComparison.Ordinal))
            ?? throw new AssertFailedException($"no server socket to port {clientPort}: {string.Join("\n", sockets)}");
        StringAssert.Contains(socket, " bbr ", $"the worker's socket has not the lane's cc: {socket}");
        StringAssert.Contains(socket, $"tb{2 * worker.Grant.SndbufBytes},", $"the worker's send buffer is not the granted {worker.Grant.SndbufBytes} ({worker.Grant.SndbufMode}): {socket}");
        StringAssert.Contains(socket, $"/{worker.Grant.PacingRate * 8}bps", $"the worker's socket is not paced at the granted rate: {socket}");

        Assert.AreEqual(0, curl.WaitForExit(TimeSpan.FromSeconds(30)), curl.Stderr);
        var sw = Stopwatch.StartNew();
        while (lab.LeasesOn(port).Count > 0 || lab.Steers(clientPort))
        {
            Assert.IsLessThan(Within, sw.Elapsed, $"the lease or its rules outlived curl by {sw.Elapsed.TotalSeconds:0.0} s\n{lab.Log}");
            Thread.Sleep(20); // polling interval
        }
    }

    // `ss -tnmiH` lines (a socket per line) in the server namespace for local port `port`.
    private static string[] ServerSockets(LabBroker lab, int port, bool listening)
    {
        ProcessResult r = ProcessRunner.Run("/sbin/ip", ["netns", "exec", lab.Lab.Namespaces.Server, "ss", listening ? "-tlnH" : "-tnmiH", $"( sport = :{port} )"]);
        return r.Stdout.Replace("\n\t", " ", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
