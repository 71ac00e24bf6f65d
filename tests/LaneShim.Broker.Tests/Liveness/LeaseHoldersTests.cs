// LeaseHoldersTests.cs - when a lease ends: with its last holder, by release where it cannot be watched, by the kernel's
// word where it can (a release while another descriptor holds the connection keeps it), renewed while held.
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Liveness;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Liveness;

[TestClass]
public sealed class LeaseHoldersTests
{
    private static Endpoint At(string address, uint port) => new() { Address = ByteString.CopyFrom(IPAddress.Parse(address).GetAddressBytes()), Port = port };

    private static Flow Flow(Direction direction) => direction == Direction.Outbound
        ? new() { Direction = direction, Protocol = 6, Local = At("10.50.1.2", 40000), Remote = At("10.50.2.2", 8080) }
        : new() { Direction = direction, Protocol = 6, Local = At("10.50.2.2", 8080), Remote = At("10.50.1.2", 40000) };

    private static async Task<LeaseGrantResult> Ask(LeaseTable table, Direction direction, int pid, TimeSpan? ttl = null) =>
        await table.TryGrantAsync(Flow(direction), new ProgramInfo { Uid = 0, Pid = (uint)pid }, new LaneGrant { LaneClass = "bulk", RateBps = 1000, PerFlow = true },
            ttl ?? TimeSpan.FromMinutes(5), [], CancellationToken.None, holder: new LeaseHolder(direction, 0, pid, null));

    private static bool Until(Func<bool> condition, TimeSpan deadline)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > deadline)
            {
                return false;
            }
            Thread.Sleep(10); // polling interval
        }
        return true;
    }

    [TestMethod]
    public async Task UnwatchedHolders_TheLeaseEndsWithTheSecondRelease()
    {
        var table = new LeaseTable(TimeProvider.System);
        var holders = new LeaseHolders(table, null, null, NullLogger.Instance);
        var ended = new List<LeaseEntry>();
        holders.Ended += (entry, _) => ended.Add(entry);
        LeaseEntry lease = (await Ask(table, Direction.Outbound, pid: 11)).Entry!;
        await Ask(table, Direction.Inbound, pid: 22);

        (LeaseEntry afterClient, bool clientEnded) = await holders.ReleaseAsync(table.Find(lease.Id)!, 11, _ => true, null);
        Assert.IsFalse(clientEnded, "the client's release ended what the server still uses");
        Assert.IsNotNull(table.Find(lease.Id));
        Assert.IsTrue(afterClient.Holders[0].Ended);
        Assert.IsFalse(afterClient.Holders[1].Ended);

        (_, bool serverEnded) = await holders.ReleaseAsync(table.Find(lease.Id)!, 22, _ => true, new FlowStats { BytesAcked = 5 });
        Assert.IsTrue(serverEnded);
        Assert.IsNull(table.Find(lease.Id));
        Assert.HasCount(1, ended);
    }

    [TestMethod]
    public async Task WatchedHolder_ReleasedWhileAnotherDescriptorHoldsIt_EndsWhenTheKernelSaysSo()
    {
        Privileges.RequireRoot("the connection watcher needs CAP_NET_ADMIN");
        using var watcher = new ConnectionWatcher(NullLogger<ConnectionWatcher>.Instance);
        var table = new LeaseTable(TimeProvider.System);
        var holders = new LeaseHolders(table, null, watcher, NullLogger.Instance);
        FlowStats? final = null;
        holders.Ended += (_, stats) => final = stats;
        using TcpPair pair = TcpPair.Open();
        LeaseEntry lease = (await Ask(table, Direction.Outbound, pid: 11)).Entry!;
        Assert.AreEqual("kernel", holders.Attach(lease, 0, pair.ClientFd));
        int child = pair.DuplicateClient(); // accept, fork: the child's copy

        (_, bool ended) = await holders.ReleaseAsync(table.Find(lease.Id)!, 11, _ => true, new FlowStats { BytesAcked = 1 });
        pair.Client.Close(); // the parent closes its copy
        Assert.IsFalse(ended);
        Assert.IsFalse(Until(() => table.Find(lease.Id) is null, TimeSpan.FromSeconds(2.5)), "the lease ended while the child held the connection");

        pair.Accepted.Send(new byte[100_000]);
        TcpPair.CloseDescriptor(child);
        Assert.IsTrue(Until(() => table.Find(lease.Id) is null, TimeSpan.FromSeconds(2)), "the lease outlived its connection by more than 2 s");
        Assert.IsTrue(Until(() => final is not null, TimeSpan.FromSeconds(1)), "no closed-flow statistics");
        Assert.AreEqual(0, holders.Watched);
    }

    [TestMethod]
    public async Task HeldConnection_OutlivesItsTtl_BecauseTheBrokerRenewsIt()
    {
        Privileges.RequireRoot("the connection watcher needs CAP_NET_ADMIN");
        using var watcher = new ConnectionWatcher(NullLogger<ConnectionWatcher>.Instance);
        var table = new LeaseTable(TimeProvider.System);
        var holders = new LeaseHolders(table, null, watcher, NullLogger.Instance);
        using TcpPair pair = TcpPair.Open();
        LeaseEntry lease = (await Ask(table, Direction.Outbound, pid: 11, ttl: TimeSpan.FromSeconds(3))).Entry!;
        holders.Attach(lease, 0, pair.ClientFd);

        // Nobody renews (an exec'd image, a child that never asked): the kernel's word does, while the connection lives.
        Assert.IsFalse(Until(() => table.Find(lease.Id) is null, TimeSpan.FromSeconds(6)), "a held connection's lease expired");
        Assert.IsGreaterThan(lease.ExpiresAt, table.Find(lease.Id)!.ExpiresAt);

        pair.Client.Close();
        Assert.IsTrue(Until(() => table.Find(lease.Id) is null, TimeSpan.FromSeconds(2)));
    }

    [TestMethod]
    public async Task WithdrawnJoiningEnd_LeavesTheLeaseToTheOtherEnd()
    {
        var table = new LeaseTable(TimeProvider.System);
        var holders = new LeaseHolders(table, null, null, NullLogger.Instance);
        LeaseEntry lease = (await Ask(table, Direction.Outbound, pid: 11)).Entry!;
        LeaseGrantResult joined = await Ask(table, Direction.Inbound, pid: 22);

        await holders.WithdrawAsync(joined.Entry!, joined.Holder);

        Assert.IsNotNull(table.Find(lease.Id));
        (_, bool ended) = await holders.ReleaseAsync(table.Find(lease.Id)!, 11, _ => true, null);
        Assert.IsTrue(ended);
    }
}
