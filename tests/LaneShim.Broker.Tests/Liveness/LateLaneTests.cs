// LateLaneTests.cs - a caller whose deadline passed before its lane was ready: the broker keeps the lane on a watched
// connection, sets it on the caller's socket itself, and the connection's end ends the lease.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Liveness;
using LaneShim.Broker.Services;
using LaneShim.Core;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Liveness;

[TestClass]
public sealed class LateLaneTests
{
    private const string Policy = "class lane rate=1gbit rtt=40ms cc=reno ttl=10m\nrule -> lane\n";

    private static LaneRequest RequestFor(TcpPair pair)
    {
        var local = (IPEndPoint)pair.Client.LocalEndPoint!;
        var remote = (IPEndPoint)pair.Client.RemoteEndPoint!;
        return new LaneRequest
        {
            Flow = new Flow
            {
                Local = new Endpoint { Address = ByteString.CopyFrom(local.Address.GetAddressBytes()), Port = (uint)local.Port },
                Remote = new Endpoint { Address = ByteString.CopyFrom(remote.Address.GetAddressBytes()), Port = (uint)remote.Port },
                Direction = Direction.Outbound,
                Protocol = 6,
            },
            Program = new ProgramInfo { Path = "/usr/bin/iperf3", Pid = (uint)Environment.ProcessId, Fd = pair.ClientFd },
            AppSettings = new SocketSettings(),
            // An unprivileged host, so the broker applies what only it may (and checks the deadline before it does).
            Host = new Protocol.V1.HostLimits { RmemMax = 212_992, WmemMax = 212_992, TcpRmemMax = 6 << 20, TcpWmemMax = 4 << 20, Privileged = false, CongestionAvailable = { "reno", "cubic", "bbr" } },
        };
    }

    [TestMethod]
    public async Task DeadlinePassedBeforeTheBrokerApplied_WatchedSocket_GetsTheLaneFromTheBroker_AndTheLeaseEndsWithTheConnection()
    {
        Privileges.RequireRoot("pidfd_getfd on our own socket, SO_SNDBUFFORCE, and the connection watcher");
        using var watcher = new ConnectionWatcher(NullLogger<ConnectionWatcher>.Instance);
        var leases = new LeaseTable(TimeProvider.System);
        var service = new LaneBrokerService(new PolicyStore(PolicyParser.Parse(Policy, "lanes.conf")), leases, new RttLearner(TimeProvider.System),
            NullLogger<LaneBrokerService>.Instance, watcher: watcher)
        { Security = BrokerSecurity.Default };
        using TcpPair pair = TcpPair.Open();
        string before = Congestion(pair.Client);
        // The agent's deadline is over by the time the broker is ready: it has connected without the lane.
        var late = new InProcessCallContext("/laneshim.v1.LaneBroker/RequestLane", new PeerCredentials(Environment.ProcessId, 0, 0), DateTime.UtcNow.AddSeconds(-1));

        RpcException e = await Assert.ThrowsExactlyAsync<RpcException>(() => service.RequestLane(RequestFor(pair), late));

        Assert.AreEqual(StatusCode.DeadlineExceeded, e.StatusCode);
        StringAssert.Contains(e.Status.Detail, "the broker set it on the socket");
        Assert.AreNotEqual("reno", before, "pick a class cc the test's socket does not already have");
        Assert.AreEqual("reno", Congestion(pair.Client), "the broker did not set the lane's cc on the caller's socket");
        LeaseEntry lease = leases.List().Single();
        Assert.AreEqual(Protocol.V1.BufferMode.Force, lease.Grant.SndbufMode, lease.Grant.Reason);
        Assert.AreEqual(2 * lease.Grant.SndbufBytes, (long)pair.Client.SendBufferSize, $"the granted send buffer is not on the socket: {lease.Grant.Reason}");
        StringAssert.Contains(lease.Grant.Reason, "set late by the broker");

        pair.Client.Close();
        var sw = Stopwatch.StartNew();
        while (leases.Count > 0)
        {
            Assert.IsLessThan(TimeSpan.FromSeconds(2), sw.Elapsed, "the late lane's lease outlived its connection");
            Thread.Sleep(10); // polling interval
        }
    }

    // TCP_CONGESTION as the kernel has it.
    private static string Congestion(Socket socket)
    {
        Span<byte> name = stackalloc byte[16];
        int length = socket.GetRawSocketOption(6, 13, name);
        return System.Text.Encoding.ASCII.GetString(name[..length]).TrimEnd('\0');
    }
}
