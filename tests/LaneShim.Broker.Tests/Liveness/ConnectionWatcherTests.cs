// ConnectionWatcherTests.cs - the watcher on real sockets: a closed connection is gone within 2 s, a descriptor held
// elsewhere keeps it, an orphan counts as gone, and a socket in another network namespace is watched there.
using System.Diagnostics;
using System.Net.Sockets;
using LaneShim.Broker.Liveness;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace LaneShim.Broker.Tests.Liveness;

[TestClass]
public sealed class ConnectionWatcherTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(2);

    private static ConnectionWatcher NewWatcher(out List<(WatchedSocket Socket, FlowStats? Stats, string How)> gone, out List<WatchedSocket> held)
    {
        Privileges.RequireRoot("SIOCGSKNS, setns and the TCP destroy groups need CAP_NET_ADMIN and CAP_SYS_ADMIN");
        var watcher = new ConnectionWatcher(NullLogger<ConnectionWatcher>.Instance);
        var goneList = new List<(WatchedSocket, FlowStats?, string)>();
        var heldList = new List<WatchedSocket>();
        watcher.Gone += (s, stats, how) =>
        {
            lock (goneList)
            {
                goneList.Add((s, stats, how));
            }
        };
        watcher.Held += sockets =>
        {
            lock (heldList)
            {
                heldList.AddRange(sockets);
            }
        };
        gone = goneList;
        held = heldList;
        return watcher;
    }

    private static (WatchedSocket Socket, FlowStats? Stats, string How)? WaitGone(List<(WatchedSocket Socket, FlowStats? Stats, string How)> gone, WatchedSocket socket, TimeSpan deadline)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < deadline)
        {
            lock (gone)
            {
                foreach (var g in gone)
                {
                    if (ReferenceEquals(g.Socket, socket))
                    {
                        return g;
                    }
                }
            }
            Thread.Sleep(10); // polling interval of the check
        }
        return null;
    }

    private static void Drain(Socket socket, int bytes)
    {
        var buffer = new byte[65536];
        for (int got = 0; got < bytes;)
        {
            got += socket.Receive(buffer);
        }
    }

    [TestMethod]
    public void ClosedConnection_IsGoneWithinTwoSeconds_WithItsFinalStatistics()
    {
        using ConnectionWatcher watcher = NewWatcher(out var gone, out _);
        using TcpPair pair = TcpPair.Open();
        WatchedSocket socket = watcher.Watch(pair.ClientFd, "lease", out string failure) ?? throw new AssertFailedException(failure);
        pair.Client.Send(new byte[200_000]);
        Drain(pair.Accepted, 200_000);

        pair.Client.Close();
        var sw = Stopwatch.StartNew();
        var end = WaitGone(gone, socket, Within);

        Assert.IsNotNull(end, "the closed connection was not reported gone within 2 s");
        Assert.IsNotNull(end.Value.Stats, $"no final TCP_INFO ({end.Value.How})");
        Assert.IsGreaterThanOrEqualTo(200_000UL, end.Value.Stats.BytesAcked, $"final stats: {end.Value.Stats}");
        Assert.AreEqual(0, watcher.Count);
    }

    [TestMethod]
    public void ConnectionHeldByAnotherDescriptor_LivesOn_UntilTheLastOneCloses()
    {
        using ConnectionWatcher watcher = NewWatcher(out var gone, out var held);
        using TcpPair pair = TcpPair.Open();
        WatchedSocket socket = watcher.Watch(pair.ClientFd, "lease", out string failure) ?? throw new AssertFailedException(failure);
        int other = pair.DuplicateClient(); // what a forked child, or an SCM_RIGHTS receiver, holds

        watcher.Released(socket, new FlowStats { BytesAcked = 1 });
        pair.Client.Close();
        Assert.IsNull(WaitGone(gone, socket, TimeSpan.FromSeconds(2.5)), "gone while another descriptor still held the connection");
        lock (held)
        {
            Assert.Contains(socket, held, "the checks did not see the connection held");
        }

        pair.Accepted.Send(new byte[1000]); // the connection still works through the other descriptor
        TcpPair.CloseDescriptor(other);
        var end = WaitGone(gone, socket, Within);
        Assert.IsNotNull(end, "not gone within 2 s of the last descriptor closing");
    }

    [TestMethod]
    public void OrphanedConnection_StillSending_CountsAsGone()
    {
        using ConnectionWatcher watcher = NewWatcher(out var gone, out _);
        using TcpPair pair = TcpPair.Open();
        pair.Accepted.ReceiveBufferSize = 4096; // the peer reads nothing: the client's last bytes cannot leave
        WatchedSocket socket = watcher.Watch(pair.ClientFd, "lease", out string failure) ?? throw new AssertFailedException(failure);
        pair.Client.Blocking = false;
        var block = new byte[65536];
        try
        {
            while (true)
            {
                pair.Client.Send(block);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
        }

        pair.Client.Close(); // FIN_WAIT1 with unsent data and no file: orphaned, not destroyed for minutes
        var end = WaitGone(gone, socket, Within);
        Assert.IsNotNull(end, "an orphaned connection was not reported gone within 2 s");
        Assert.AreEqual("orphaned", end.Value.How);
    }

    [TestMethod]
    public void BoundSocketNotYetConnected_IsHeld()
    {
        // What an outbound socket is when its lane is granted: bound (the agent binds its port), connect() still to come.
        using ConnectionWatcher watcher = NewWatcher(out var gone, out var held);
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        WatchedSocket socket = watcher.Watch((int)bound.Handle, "lease", out string failure) ?? throw new AssertFailedException(failure);

        Assert.IsNull(WaitGone(gone, socket, ConnectionWatcher.UnseenGrace + TimeSpan.FromSeconds(1)), "a bound socket was called gone before it connected");
        Assert.IsTrue(HeldContains(held, socket), "a bound socket was not seen held (TCP_BOUND_INACTIVE, Linux 6.6+)");
    }

    [TestMethod]
    public void UnboundSocketThatNeverConnects_IsGoneAfterTheGrace()
    {
        using ConnectionWatcher watcher = NewWatcher(out var gone, out _);
        using var unbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        WatchedSocket socket = watcher.Watch((int)unbound.Handle, "lease", out string failure) ?? throw new AssertFailedException(failure);

        Assert.IsNull(WaitGone(gone, socket, ConnectionWatcher.UnseenGrace - TimeSpan.FromMilliseconds(500)), "called gone before it could connect");
        var end = WaitGone(gone, socket, TimeSpan.FromSeconds(1.5) + ConnectionWatcher.CheckInterval);
        Assert.IsNotNull(end);
        Assert.AreEqual("closed", end.Value.How);
    }

    [TestMethod]
    public void SocketInAnotherNamespace_IsWatchedInside_AndTheNamespaceIsLetGoAfter()
    {
        using ConnectionWatcher watcher = NewWatcher(out var gone, out var held);
        using var netns = new NetnsPair();
        using TcpPair pair = TcpPair.Open(netns.A, netns.AddressA);
        WatchedSocket socket = watcher.Watch(pair.ClientFd, "lease", out string failure) ?? throw new AssertFailedException(failure);
        Assert.AreNotEqual(SocketIdentity.Of(-1), socket.Netns, "the socket should live in the test's namespace, not the watcher's");

        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < Within && !HeldContains(held, socket))
        {
            Thread.Sleep(10); // polling interval
        }
        Assert.IsTrue(HeldContains(held, socket), "the check inside the other namespace did not find the connection");
        Assert.AreEqual(1, watcher.Namespaces);

        pair.Client.Close();
        Assert.IsNotNull(WaitGone(gone, socket, Within), "not gone within 2 s");
        sw.Restart();
        while (sw.Elapsed < Within && watcher.Namespaces > 0)
        {
            Thread.Sleep(10);
        }
        Assert.AreEqual(0, watcher.Namespaces, "the namespace was kept open with nothing left to watch in it");
    }

    private static bool HeldContains(List<WatchedSocket> held, WatchedSocket socket)
    {
        lock (held)
        {
            return held.Contains(socket);
        }
    }
}
