// SocketProofTests.cs - a real broker proves each caller's socket with pidfd_getfd: real sockets granted, every spoof refused.
using Grpc.Core;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using LaneShim.Testing;

namespace LaneShim.Broker.Tests.Identity;

[TestClass]
public sealed class SocketProofTests
{
    private const int N = 100;
    private const int SolSocket = 1, SoPriority = 12, SoMark = 36;

    // 10 Gbit/s x 100 ms = 125 MB: far above rmem_max, so only SO_*BUFFORCE reaches it; mark and priority 7 need CAP_NET_ADMIN.
    private const string Policy = """
        class fat rate=10gbit rtt=100ms mark=0x10 priority=7 ttl=10m
        rule dst=any -> fat
        """;

    private const long Bdp = 125_000_000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [TestMethod]
    public async Task OwnSocket_Granted_BrokerAppliedForcedBuffersMarkAndPriorityOnThatSocket()
    {
        Privileges.RequireRoot("the broker needs CAP_NET_ADMIN and pidfd_getfd on the caller");
        await using BrokerUnderTest broker = await BrokerUnderTest.StartAsync(Policy);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        LaneGrant grant = await broker.Client.RequestLaneAsync(BrokerUnderTest.RequestFor(socket), Deadline);

        Assert.AreEqual(1u | 2u | 4u | 8u, grant.BrokerApplied, grant.Reason);
        StringAssert.Contains(grant.Reason, "applied by the broker: SO_SNDBUFFORCE, SO_RCVBUFFORCE, SO_MARK, SO_PRIORITY");
        Assert.AreEqual(0x10, GetInt(socket, SoMark), "SO_MARK on the caller's own socket");
        Assert.AreEqual(7, GetInt(socket, SoPriority), "SO_PRIORITY on the caller's own socket");
        // The kernel doubles what was set; plain SO_RCVBUF would stop at 2 x rmem_max.
        Assert.AreEqual(2 * Bdp, (long)socket.ReceiveBufferSize, "forced receive buffer");
        Assert.AreEqual(2 * Bdp, (long)socket.SendBufferSize, "forced send buffer");
        Assert.IsGreaterThan(2 * ReadLong("/proc/sys/net/core/rmem_max"), (long)socket.ReceiveBufferSize);
    }

    [TestMethod]
    public async Task SpoofedSockets_NoneOfHundredEachSucceed_EachDeniedWithReason_AllAudited()
    {
        Privileges.RequireRoot("the broker needs pidfd_getfd on the caller");
        Privileges.RequireProgram(RepoPaths.SystemPython);
        await using BrokerUnderTest broker = await BrokerUnderTest.StartAsync(Policy);

        // Another process's TCP socket: its descriptor number and port, and its pid claimed as ours.
        using var other = new BackgroundProcess(RepoPaths.SystemPython, ["-c",
            "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.fileno(), s.getsockname()[1], flush=True); time.sleep(120)"]);
        other.WaitUntil(() => other.Stdout.Contains('\n'), TimeSpan.FromSeconds(20), "printed its socket");
        string[] fields = other.Stdout.Trim().Split(' ');
        int otherFd = int.Parse(fields[0]), otherPort = int.Parse(fields[1]);

        string file = Path.Combine(broker.Directory, "not-a-socket");
        await File.WriteAllTextAsync(file, "x");
        using FileStream notSocket = File.OpenRead(file);
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int tcpPort = ((IPEndPoint)tcp.LocalEndPoint!).Port;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndpoint);
        using Socket accepted = await listener.AcceptSocketAsync();
        var acceptedLocal = (IPEndPoint)accepted.LocalEndPoint!;

        var spoofs = new (string Kind, Func<int, LaneRequest> Make, string Why)[]
        {
            ("someone else's fd", i => BrokerUnderTest.Request(IPAddress.Loopback, otherPort, otherFd, (uint)other.Pid, Direction.Outbound, IPAddress.Parse("10.9.9.9"), 5201), "not the caller's"),
            ("a pid that is not the caller", i => BrokerUnderTest.Request(IPAddress.Loopback, otherPort, otherFd + 1000 + i, (uint)other.Pid, Direction.Outbound, IPAddress.Parse("10.9.9.9"), 5201), "is not open in the calling process"),
            ("a file, not a socket", i => BrokerUnderTest.RequestFor(tcp, fd: (int)notSocket.SafeFileHandle.DangerousGetHandle()), "is not a socket"),
            ("a UDP socket", i => BrokerUnderTest.Request(IPAddress.Loopback, ((IPEndPoint)udp.LocalEndPoint!).Port, (int)udp.Handle, 0, Direction.Outbound, IPAddress.Parse("10.9.9.9"), 5201), "UDP"),
            ("another local port", i => BrokerUnderTest.RequestFor(tcp, localPort: tcpPort == 65535 ? 1 : tcpPort + 1 + (i % 3)), "bound to local port"),
            ("another local address", i => BrokerUnderTest.RequestFor(tcp, localAddress: IPAddress.Parse($"127.0.0.{2 + i}")), "is bound to 127.0.0.1"),
            ("an inbound flow from another peer", i => BrokerUnderTest.Request(acceptedLocal.Address, acceptedLocal.Port, (int)accepted.Handle, 0, Direction.Inbound, IPAddress.Parse("10.9.9.9"), 40000 + i), "is connected to"),
            ("no descriptor", i => BrokerUnderTest.RequestFor(tcp, fd: -1), "names no descriptor"),
        };

        int attempts = 0;
        foreach ((string kind, Func<int, LaneRequest> make, string why) in spoofs)
        {
            int granted = 0;
            for (int i = 0; i < N; i++)
            {
                attempts++;
                try
                {
                    await broker.Client.RequestLaneAsync(make(i), Deadline);
                    granted++;
                }
                catch (RpcException e)
                {
                    Assert.AreEqual(StatusCode.PermissionDenied, e.StatusCode, $"{kind}: {e.Status.Detail}");
                    StringAssert.Contains(e.Status.Detail, why, $"{kind}");
                }
            }

            Assert.AreEqual(0, granted, $"{kind}: {granted} of {N} spoofed requests were granted");
        }

        Assert.AreEqual(0, GetInt(tcp, SoMark), "nothing was applied to the socket named with wrong claims");
        Assert.AreEqual(0, (await broker.Client.ListLeasesAsync(new ListLeasesRequest(), Deadline)).Leases.Count(l => l.Program.Path != "/laneshim/warm-up"));

        // The real socket still gets its lane (the proof is not simply refusing everything).
        LaneGrant grant = await broker.Client.RequestLaneAsync(BrokerUnderTest.RequestFor(tcp), Deadline);
        Assert.AreEqual("fat", grant.LaneClass);

        await broker.StopAsync();
        JsonElement[] lines = broker.AuditLines().Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        JsonElement[] failed = lines.Where(l => l.GetProperty("verdict").GetString() == "proof-failed").ToArray();
        Assert.AreEqual(attempts, failed.Length, "one audit line per refused request");
        Assert.IsTrue(failed.All(l => l.GetProperty("pid").GetInt32() == Environment.ProcessId && l.GetProperty("proof").GetString() == "failed"), failed[0].ToString());
        JsonElement granted1 = lines.Last(l => l.GetProperty("verdict").GetString() == "grant");
        Assert.AreEqual("ok", granted1.GetProperty("proof").GetString());
        Assert.AreEqual("fat", granted1.GetProperty("class").GetString());
        Assert.AreEqual(grant.LeaseId[..8], granted1.GetProperty("lease").GetString());
        Assert.AreEqual(15, granted1.GetProperty("broker_applied").GetInt32());
        Assert.EndsWith("lanes.conf:2", granted1.GetProperty("rule").GetString()!);
        Assert.AreEqual(10_000_000_000L, granted1.GetProperty("rate_bps").GetInt64());
    }

    private static int GetInt(Socket socket, int option)
    {
        byte[] value = new byte[4];
        socket.GetRawSocketOption(SolSocket, option, value);
        return BitConverter.ToInt32(value);
    }

    private static long ReadLong(string path) => long.Parse(File.ReadAllText(path).Trim());
}
