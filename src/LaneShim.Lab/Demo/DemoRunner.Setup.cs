// DemoRunner.Setup.cs - before the runs: tools, work directory, test data, the lab, hosts files, the RTT, the broker, server configs.
using System.Diagnostics;
using LaneShim.Lab.Lab;
using LaneShim.Cli.Site;

namespace LaneShim.Lab.Demo;

internal sealed partial class DemoRunner
{
    private const long LargeBytes = 1_000_000_000;
    private const long MediumBytes = 500_000_000;

    /// <summary>Movers that cannot run, with the reason (a missing tool, a failed preparation).</summary>
    private readonly Dictionary<string, string> _unavailable = new(StringComparer.Ordinal);

    /// <summary>Movers whose client LD_PRELOAD cannot reach (statically linked), with the reason.</summary>
    private readonly Dictionary<string, string> _unwrappable = new(StringComparer.Ordinal);

    private BrokerProcess? _broker;

    private DemoContext SetUp()
    {
        if (!ProcessTable.IsRoot)
        {
            throw new DemoException("needs root (network namespaces, TUN devices, nftables, servers on the lab's hosts)");
        }
        string laneshim = ProductCli();
        _ = LabTools.Ip;
        _ = LabTools.Nft;
        _ = LabTools.Ping;
        CheckTools();

        string work = CreateWorkDirectory();
        string data = Directory.CreateDirectory(Path.Combine(work, "data")).FullName;
        string destination = Directory.CreateDirectory(Path.Combine(work, "destination")).FullName;
        // Anonymous servers (GridFTP, XRootD) run as nobody and must reach the data.
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(work, (UnixFileMode)0x1ed /* 0755 */);
            File.SetUnixFileMode(data, (UnixFileMode)0x1ed);
        }
        var sw = Stopwatch.StartNew();
        DemoFile large = TestData.Write(Path.Combine(data, "large.bin"), LargeBytes, seed: 1);
        cancel.ThrowIfCancellationRequested();
        DemoFile medium = TestData.Write(Path.Combine(data, "medium.bin"), MediumBytes, seed: 2);
        output.WriteLine($"demo: test data {large.Size} + {medium.Size} of random bytes in {data} ({DemoFormat.Seconds(sw.Elapsed.TotalSeconds)})");

        LabState lab = BringUpLab();
        var names = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [lab.ClientAddress] = lab.Namespaces.Client,
            [lab.ServerAddress] = lab.Namespaces.Server,
        };
        string hostName = Environment.MachineName;
        NamespaceHosts.Write(lab.Namespaces.Client, lab.ClientAddress, names, hostName, _cleanup);
        NamespaceHosts.Write(lab.Namespaces.Server, lab.ServerAddress, names, hostName, _cleanup);
        cancel.ThrowIfCancellationRequested();

        double rtt = RttProbe.Measure(lab);
        string socket = Path.Combine(work, "broker.sock");
        _broker = BrokerProcess.Start(laneshim, socket, settings.PolicyFile, lab.TopologyFile, Path.Combine(work, "broker.log"), cancel,
            kernelPath: movers.Any(m => m.KernelPath && !_unavailable.ContainsKey(m.Name)));
        BrokerProcess broker = _broker;
        _cleanup.Push("stop the broker", broker.Dispose);
        output.WriteLine($"demo: broker on unix:{socket} (policy {settings.PolicyFile}, topology {lab.TopologyFile}, enforcement linux-router; log {broker.LogFile})");

        var context = new DemoContext
        {
            Settings = settings,
            Lab = lab,
            WorkDirectory = work,
            DataDirectory = data,
            DestinationDirectory = destination,
            LargeFile = large,
            MediumFile = medium,
            BrokerSocket = socket,
            Laneshim = laneshim,
            RttMs = rtt,
            LabDefaultCc = DefaultCongestion(lab),
        };
        foreach (Mover mover in movers.Where(m => !_unavailable.ContainsKey(m.Name)))
        {
            try
            {
                mover.Prepare(context, _cleanup);
            }
            catch (Exception e) when (e is LabException or IOException or UnauthorizedAccessException or DemoException)
            {
                _unavailable[mover.Name] = $"could not prepare its server: {e.Message}";
            }
            if (!mover.KernelPath && ExecutableInspector.Warning(mover.ClientProgram, Environment.GetEnvironmentVariable("PATH")) is string warning)
            {
                _unwrappable[mover.Name] = warning;
            }
        }
        WriteHeader(context);
        return context;
    }

    /// <summary>What a plain socket gets in the server namespace (net.ipv4.tcp_congestion_control there).</summary>
    private static string DefaultCongestion(LabState lab) =>
        LabTools.Run(LabTools.Ip, ["netns", "exec", lab.Namespaces.Server, LabTools.Sysctl, "-n", "net.ipv4.tcp_congestion_control"]).Stdout.Trim();

    /// <summary>Marks movers whose programs are missing (naming the Debian package) as unavailable.</summary>
    private void CheckTools()
    {
        foreach (Mover mover in movers)
        {
            List<DemoTool> missing = mover.Tools.Where(t => !t.Installed).ToList();
            if (missing.Count > 0)
            {
                _unavailable[mover.Name] = "not installed: " + string.Join(", ", missing.Select(t => $"{t.Path} (Debian package {t.Package})"));
            }
        }
    }

    /// <summary>A private directory on tmpfs (/dev/shm) when it has room for the data and one copy, else in the temp directory.</summary>
    // The product's own `laneshim` (run, broker) of the out/ tree this laneshim-lab runs from: out/bin/laneshim, which
    // links to out/cli/laneshim.
    private static string ProductCli()
    {
        string link = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "bin", "laneshim"));
        if (!File.Exists(link))
        {
            throw new DemoException($"cannot find the laneshim executable at {link}; build it with ./build.sh");
        }
        return new FileInfo(link).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? link;
    }

    private string CreateWorkDirectory()
    {
        long needed = LargeBytes * 2 + MediumBytes + (256L << 20);
        string root = settings.WorkRoot ?? (HasRoom("/dev/shm", needed) ? "/dev/shm" : Path.GetTempPath());
        if (!HasRoom(root, needed))
        {
            throw new DemoException($"{root} has less than {DemoFormat.Bytes(needed)} free for the test data and the copies");
        }
        string dir = Path.Combine(root, $"laneshim-demo-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        _cleanup.Push($"remove {dir}", () => SafeDelete.Tree(dir));
        return dir;
    }

    private static bool HasRoom(string dir, long bytes)
    {
        try
        {
            return Directory.Exists(dir) && new DriveInfo(dir).AvailableFreeSpace >= bytes;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The demo's own lab: a leftover of the same name (an earlier demo that was killed) is removed first.</summary>
    private LabState BringUpLab()
    {
        string name = settings.Lab.Name;
        if (Directory.Exists(LabState.DirectoryFor(name)) || LabNamespaces.For(name).All.Any(LabTools.Namespaces().Contains))
        {
            output.WriteLine($"demo: removing a leftover lab {name}");
            LabTeardownResult old = LabTeardown.Down(name);
            if (old.Problems.Count > 0)
            {
                throw new DemoException($"cannot remove the leftover lab {name}: {string.Join("; ", old.Problems)}");
            }
        }
        LabState plan = LabPlanner.Plan(settings.Lab, LinkemuLocator.Find(null), LabTools.Ip, DateTimeOffset.UtcNow);
        _cleanup.Push($"lab {name} down", () =>
        {
            LabTeardownResult down = LabTeardown.Down(name);
            if (down.Problems.Count > 0)
            {
                throw new DemoException(string.Join("; ", down.Problems));
            }
        });
        var prefixed = new PrefixWriter(output, "demo: ");
        return new LabBuilder(plan, prefixed, cancel).Up();
    }

    private void WriteHeader(DemoContext c)
    {
        LabState lab = c.Lab;
        output.WriteLine();
        output.WriteLine($"lab {lab.Name}: client {lab.ClientAddress} -> server {lab.ServerAddress}");
        output.WriteLine($"  path 1 (default route, through the middlebox): {DemoFormat.Fixed(lab.Path1.RateBps / 1e6, 0)} Mbit/s, {DemoFormat.Fixed(lab.Path1.RttMs, 0)} ms, {DemoFormat.Fixed(lab.Path1.Loss * 100, 2)}% loss");
        output.WriteLine($"  path 2 (the bypass, where lanes go):            {DemoFormat.Fixed(lab.Path2.RateBps / 1e6, 0)} Mbit/s, {DemoFormat.Fixed(lab.Path2.RttMs, 0)} ms");
        output.WriteLine($"lane: line rate {DemoFormat.Mbps(c.LineRateMbps)}, RTT {DemoFormat.Fixed(c.RttMs, 2)} ms (ping over the bypass), BDP {DemoFormat.Bytes(c.BdpBytes)}");
        output.WriteLine($"hosts: stock Linux senders (congestion control {c.LabDefaultCc}, tcp_wmem {LabSettings.StockTcpWmem}); what a lane changes shows on both ends' sockets");
        output.WriteLine("modes: plain      = the command as it ships, on the default route");
        string deadline = settings.DeadlineMs is int ms ? $" --deadline-ms {DemoFormat.Invariant(ms)}" : "";
        output.WriteLine($"       laneshim   = the same command under `laneshim run --broker unix:{c.BrokerSocket}{deadline}`, and its server too");
        output.WriteLine("       hand-tuned = the tool's best flags, on a static route over the bypass (so only the tuning differs from the lane)");
        foreach ((string mover, string why) in _unavailable)
        {
            output.WriteLine($"skipping {mover}: {why}");
        }
        output.WriteLine();
    }
}
