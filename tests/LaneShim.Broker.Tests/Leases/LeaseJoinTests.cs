// LeaseJoinTests.cs - both ends of one connection asking the same broker: the mirrored 5-tuple joins the first end's
// per-flow lease (one lease, one admission), and only what it is joinable joins.
using System.Net;
using Google.Protobuf;
using LaneShim.Broker.Leases;
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Leases;

[TestClass]
public sealed class LeaseJoinTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private static readonly LinkDemand Bypass = new("link:edgea-edgeb#3", "link edgea-edgeb", 1_000_000_000);

    private static Endpoint At(string address, uint port) => new() { Address = ByteString.CopyFrom(IPAddress.Parse(address).GetAddressBytes()), Port = port };

    private static Flow Client() => new() { Direction = Direction.Outbound, Protocol = 6, Local = At("10.50.1.2", 40000), Remote = At("10.50.2.2", 8080) };

    // The same connection as the server sees it.
    private static Flow Server() => new() { Direction = Direction.Inbound, Protocol = 6, Local = At("10.50.2.2", 8080), Remote = At("10.50.1.2", 40000) };

    private static LaneGrant Grant(ulong rate, bool perFlow = true) => new() { LaneClass = "bulk", RateBps = rate, PacingRate = rate / 8, PerFlow = perFlow };

    private static Task<LeaseGrantResult> Ask(LeaseTable table, Flow flow, LaneGrant grant, uint uid, int pid) =>
        table.TryGrantAsync(flow, new ProgramInfo { Path = "/usr/bin/x", Uid = uid, Pid = (uint)pid }, grant, Ttl, [Bypass], CancellationToken.None,
            holder: new LeaseHolder(flow.Direction, uid, pid, null));

    [TestMethod]
    public async Task ServerEndOfAClientsLane_JoinsIt_OneLeaseOneAdmission()
    {
        var table = new LeaseTable(new FakeClock());
        LeaseGrantResult client = await Ask(table, Client(), Grant(600_000_000), uid: 1000, pid: 11);
        LeaseGrantResult server = await Ask(table, Server(), Grant(600_000_000), uid: 33, pid: 22);

        Assert.IsFalse(client.Joined);
        Assert.IsTrue(server.Joined, "the mirrored 5-tuple did not join");
        Assert.AreEqual(client.Entry!.Id, server.Entry!.Id);
        Assert.AreEqual(client.Entry.Id, server.Entry.Grant.LeaseId, "the server end's grant names the shared lease");
        Assert.IsTrue(server.Entry.Grant.PerFlow);
        Assert.AreEqual(1, server.Holder);
        Assert.AreEqual(1, table.Count);
        LeaseEntry lease = table.Find(client.Entry.Id)!;
        CollectionAssert.AreEqual(new[] { Direction.Outbound, Direction.Inbound }, lease.Holders.Select(h => h.Direction).ToArray());
        Assert.AreEqual(33u, lease.Holders[1].Uid);
        // 600 of 1000 Mbit/s reserved once: a second admission would have refused the server end.
        Assert.AreEqual(600_000_000UL, table.LinkUsage()[Bypass.Key]);
        Assert.AreEqual(2, lease.ToProto().Holders.Count);
    }

    [TestMethod]
    public async Task JoiningEnd_PacesAtMostAtTheAdmittedRate()
    {
        var table = new LeaseTable(new FakeClock());
        await Ask(table, Client(), Grant(400_000_000), uid: 0, pid: 11);
        LeaseGrantResult server = await Ask(table, Server(), Grant(900_000_000), uid: 0, pid: 22);

        Assert.IsTrue(server.Joined);
        Assert.AreEqual(400_000_000UL, server.Entry!.Grant.RateBps);
        Assert.AreEqual(50_000_000UL, server.Entry.Grant.PacingRate);
        StringAssert.Contains(server.Entry.Grant.Reason, "capped at the lease's admitted");
    }

    [TestMethod]
    public async Task SharedGrant_NotForOneSocket_IsNotJoined()
    {
        var table = new LeaseTable(new FakeClock());
        LeaseGrantResult client = await table.TryGrantAsync(Client(), new ProgramInfo(), Grant(100, perFlow: false), Ttl, [], CancellationToken.None,
            holder: new LeaseHolder(Direction.Outbound, 0, 11, null));
        LeaseGrantResult server = await table.TryGrantAsync(Server(), new ProgramInfo(), Grant(100, perFlow: false), Ttl, [], CancellationToken.None,
            holder: new LeaseHolder(Direction.Inbound, 0, 22, null));

        Assert.IsFalse(server.Joined);
        Assert.AreNotEqual(client.Entry!.Id, server.Entry!.Id);
        Assert.AreEqual(2, table.Count);
    }

    [TestMethod]
    public async Task SameEndAgain_IsANewConnection_NotAJoin()
    {
        var table = new LeaseTable(new FakeClock());
        LeaseGrantResult first = await Ask(table, Client(), Grant(100_000_000), uid: 0, pid: 11);
        LeaseGrantResult second = await Ask(table, Client(), Grant(100_000_000), uid: 0, pid: 12);

        Assert.IsFalse(second.Joined);
        Assert.AreNotEqual(first.Entry!.Id, second.Entry!.Id);
    }

    [TestMethod]
    public async Task EndedLease_IsNotJoined_AndAHolderThatEndedCannotBeJoinedFor()
    {
        var table = new LeaseTable(new FakeClock());
        LeaseGrantResult client = await Ask(table, Client(), Grant(100_000_000), uid: 0, pid: 11);
        table.UpdateHolder(client.Entry!.Id, 0, released: true, ended: true);

        LeaseGrantResult server = await Ask(table, Server(), Grant(100_000_000), uid: 0, pid: 22);

        Assert.IsFalse(server.Joined, "joined a lease whose only holder's connection is gone");
    }

    [TestMethod]
    public async Task UpdateHolder_MarksOnlyForward_AndReleaseForgetsTheFlow()
    {
        var table = new LeaseTable(new FakeClock());
        LeaseGrantResult client = await Ask(table, Client(), Grant(100_000_000), uid: 0, pid: 11);
        string id = client.Entry!.Id;

        LeaseEntry released = table.UpdateHolder(id, 0, released: true, ended: false)!;
        Assert.IsTrue(released.Holders[0].Released);
        Assert.IsFalse(released.Holders[0].Ended);
        Assert.IsTrue(table.UpdateHolder(id, 0, released: false, ended: false)!.Holders[0].Released, "a release was undone");
        Assert.IsNull(table.UpdateHolder(id, 5, released: true, ended: true));

        await table.ReleaseAsync(id, CancellationToken.None);
        LeaseGrantResult server = await Ask(table, Server(), Grant(100_000_000), uid: 0, pid: 22);
        Assert.IsFalse(server.Joined);
    }
}
