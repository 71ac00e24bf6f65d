// BpfHost.cs - what the BPF lane path tests need from this machine (root, cgroup v2, bpffs, a built loader), the
// static test client they build, and small helpers: a broker with --bpf, free ports, the kernel's view of a socket.
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using LaneShim.Broker.Bpf;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Bpf;

internal static partial class BpfHost
{
    private static readonly Lazy<string> ClientLazy = new(BuildClient);

    /// <summary>The static test client (tests/native/bpf_client.c, built -static once per run).</summary>
    public static string Client => ClientLazy.Value;

    /// <summary>Marks the test inconclusive, with the reason, when the host cannot run the BPF lane path.</summary>
    public static void Require()
    {
        Privileges.RequireRoot("loading BPF programs and making cgroups");
        if (Cgroup2.FindMount() is null)
        {
            Assert.Inconclusive("no cgroup v2 hierarchy is mounted");
        }
        if (!Directory.Exists("/sys/fs/bpf") || !File.Exists("/proc/sys/kernel/unprivileged_bpf_disabled"))
        {
            Assert.Inconclusive("this kernel has no bpf() system call or no bpffs (CONFIG_BPF_SYSCALL)");
        }
        if (!File.Exists(Path.Combine(RepoPaths.Out, "lib", "laneshim.bpf.o")) || !File.Exists(Path.Combine(RepoPaths.Out, "lib", "liblaneshim-bpf.so")))
        {
            Assert.Fail("out/lib has no laneshim.bpf.o or liblaneshim-bpf.so: run ./build.sh");
        }
    }

    /// <summary>A broker with the kernel lane path (loopback included) and <paramref name="policy"/>, answering on its socket.</summary>
    public static BackgroundProcess StartBroker(string dir, string policy, string socketName = "broker.sock", params string[] extra)
    {
        string policyFile = Path.Combine(dir, socketName + ".conf");
        File.WriteAllText(policyFile, policy);
        var broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{Path.Combine(dir, socketName)}", "--policy", policyFile, "--bpf", "--bpf-loopback", "--verbose", .. extra]);
        broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
        return broker;
    }

    /// <summary>A port nobody listens on now.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>A sink server (tests/e2e/sink_server.py) on 127.0.0.1, outside every lane path cgroup.</summary>
    public static BackgroundProcess StartSink(int port)
    {
        var sink = new BackgroundProcess(RepoPaths.SystemPython, [RepoPaths.File("tests", "e2e", "sink_server.py"), "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        sink.WaitForOutput("listening", TimeSpan.FromSeconds(20));
        return sink;
    }

    /// <summary>The live leases of the broker at <paramref name="socket"/>.</summary>
    public static IReadOnlyList<Lease> Leases(string socket)
    {
        using BrokerChannel channel = BrokerChannel.Open(BrokerAddress.Parse($"unix:{socket}"));
        return channel.Call((c, o) => c.ListLeases(new ListLeasesRequest(), o), TimeSpan.FromSeconds(5)).Leases;
    }

    /// <summary>The closed flows the broker at <paramref name="socket"/> recorded.</summary>
    public static IReadOnlyList<FlowRecord> Flows(string socket)
    {
        using BrokerChannel channel = BrokerChannel.Open(BrokerAddress.Parse($"unix:{socket}"));
        return channel.Call((c, o) => c.ListFlows(new ListFlowsRequest(), o), TimeSpan.FromSeconds(5)).Flows;
    }

    /// <summary>One "when cc=… sndbuf=… pacing=… tos=… port=…" line of bpf_client or sockopt_client.py.</summary>
    public static SocketView Parse(string output, string when)
    {
        Match m = ViewLine().Matches(output).FirstOrDefault(x => x.Groups[1].Value == when)
            ?? throw new AssertFailedException($"no '{when}' line in:\n{output}");
        return new SocketView(m.Groups[2].Value, long.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture),
            ulong.Parse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(m.Groups[5].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(m.Groups[6].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Whether any program of the lane path is still attached anywhere, as bpftool sees the cgroup tree.</summary>
    public static string AttachedPrograms()
    {
        ProcessResult tree = ProcessRunner.Run("/usr/sbin/bpftool", ["cgroup", "tree", Cgroup2.FindMount()!]);
        return string.Join('\n', tree.Stdout.Split('\n').Where(l => l.Contains("laneshim_", StringComparison.Ordinal)));
    }

    /// <summary>Pin directories and cgroups a broker left behind.</summary>
    public static string Leftovers()
    {
        var left = new List<string>();
        foreach (string parent in new[] { "/sys/fs/bpf/laneshim", Path.Combine(Cgroup2.FindMount()!, "laneshim") })
        {
            if (Directory.Exists(parent))
            {
                left.AddRange(Directory.GetDirectories(parent, "broker-*"));
            }
        }
        return string.Join('\n', left);
    }

    private static string BuildClient()
    {
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-client-").FullName;
        string binary = Path.Combine(dir, "bpf_client");
        ProcessRunner.Check("/usr/bin/gcc", "-static", "-O2", "-Wall", "-o", binary, RepoPaths.File("tests", "native", "bpf_client.c"));
        return binary;
    }

    [GeneratedRegex(@"(\w+) cc=(\w*) sndbuf=(\d+) pacing=(\d+) tos=(\d+) port=(\d+)")]
    private static partial Regex ViewLine();
}
