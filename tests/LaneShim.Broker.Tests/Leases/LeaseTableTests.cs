// LeaseTableTests.cs - lease ids, TTL expiry on a fake clock, renew, release, applied settings, capacity.
using LaneShim.Broker.Leases;
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Leases;

[TestClass]
public sealed class LeaseTableTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    private static LeaseEntry Add(LeaseTable table, string laneClass = "dmz") =>
        table.TryAdd(new Flow { Direction = Direction.Outbound }, new ProgramInfo { Path = "/usr/bin/iperf3", Uid = 1000 }, new LaneGrant { LaneClass = laneClass }, Ttl)
        ?? throw new AssertFailedException("table unexpectedly full");

    [TestMethod]
    public void TryAdd_NewLease_HasRandomHexIdAndExpiryInTheGrant()
    {
        var clock = new FakeClock();
        var table = new LeaseTable(clock);

        LeaseEntry a = Add(table);
        LeaseEntry b = Add(table);

        Assert.AreEqual(32, a.Id.Length);
        Assert.IsTrue(a.Id.All(char.IsAsciiHexDigitLower), a.Id);
        Assert.AreNotEqual(a.Id, b.Id);
        Assert.AreEqual(a.Id, a.Grant.LeaseId);
        Assert.AreEqual((clock.GetUtcNow() + Ttl).ToUnixTimeMilliseconds(), a.Grant.ExpiresUnixMs);
        Assert.AreEqual(2, table.Count);
    }

    [TestMethod]
    public void TryAdd_ManyExpiredLeases_EachGrantSweepsABoundedBatch_ListingStillExact()
    {
        var clock = new FakeClock();
        var table = new LeaseTable(clock);
        for (int i = 0; i < 1000; i++)
        {
            Add(table);
        }

        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        Add(table);

        // One grant took 256 of the 1,000 expiries (not all: that held the lock for tens of ms under churn).
        Assert.AreEqual(1000 - 256 + 1, table.PendingExpiries);
        for (int i = 0; i < 3; i++)
        {
            Add(table);
        }

        Assert.AreEqual(4, table.PendingExpiries, "four grants swept the rest (1,000 in batches of 256)");
        // Expired leases were never visible, swept or not.
        Assert.AreEqual(4, table.List().Count);
    }

    [TestMethod]
    public void TryAdd_CallerMutatesItsGrantAfterwards_StoredCopyIsUnchanged()
    {
        var table = new LeaseTable(new FakeClock());
        var grant = new LaneGrant { LaneClass = "dmz" };
        LeaseEntry entry = table.TryAdd(new Flow(), new ProgramInfo(), grant, Ttl)!;

        grant.LaneClass = "changed";
        Assert.AreEqual("dmz", table.Find(entry.Id)!.Grant.LaneClass);
    }

    [TestMethod]
    public void Find_AfterTtl_LeaseIsGoneFromEverywhere()
    {
        var clock = new FakeClock();
        var table = new LeaseTable(clock);
        LeaseEntry entry = Add(table);

        clock.Advance(Ttl - TimeSpan.FromMilliseconds(1));
        Assert.IsNotNull(table.Find(entry.Id));
        Assert.AreEqual(1, table.List().Count);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.IsNull(table.Find(entry.Id));
        Assert.AreEqual(0, table.List().Count);
        Assert.IsNull(table.Renew(entry.Id));
        Assert.IsNull(table.Release(entry.Id));
        Assert.IsNull(table.RecordApplied(entry.Id, new SocketSettings()));
    }

    [TestMethod]
    public void Renew_BeforeExpiry_ExtendsByTheTtlFromNow()
    {
        var clock = new FakeClock();
        var table = new LeaseTable(clock);
        LeaseEntry entry = Add(table);

        clock.Advance(TimeSpan.FromMinutes(4));
        LeaseEntry renewed = table.Renew(entry.Id)!;
        Assert.AreEqual(clock.GetUtcNow() + Ttl, renewed.ExpiresAt);
        Assert.AreEqual(renewed.ExpiresAt.ToUnixTimeMilliseconds(), renewed.Grant.ExpiresUnixMs);

        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.IsNotNull(table.Find(entry.Id), "the renewal should have carried the lease past its first expiry");
    }

    [TestMethod]
    public void Release_LiveLease_RemovesItOnce()
    {
        var table = new LeaseTable(new FakeClock());
        LeaseEntry entry = Add(table);

        Assert.AreEqual(entry.Id, table.Release(entry.Id)?.Id);
        Assert.IsNull(table.Release(entry.Id));
        Assert.AreEqual(0, table.Count);
    }

    [TestMethod]
    public void RecordApplied_Report_IsKeptAndListed()
    {
        var table = new LeaseTable(new FakeClock());
        LeaseEntry entry = Add(table);

        table.RecordApplied(entry.Id, new SocketSettings { Sndbuf = 10_000_000, Congestion = "cubic" });
        Lease listed = table.List().Single().ToProto();

        Assert.AreEqual(10_000_000L, listed.Applied.Sndbuf);
        Assert.AreEqual("cubic", listed.Applied.Congestion);
        Assert.AreEqual(entry.Id, listed.LeaseId);
    }

    [TestMethod]
    public void TryAdd_AtCapacity_ReturnsNullUntilALeaseExpires()
    {
        var clock = new FakeClock();
        var table = new LeaseTable(clock, capacity: 2);
        Add(table);
        Add(table);

        Assert.IsNull(table.TryAdd(new Flow(), new ProgramInfo(), new LaneGrant(), Ttl));
        clock.Advance(Ttl);
        Assert.IsNotNull(table.TryAdd(new Flow(), new ProgramInfo(), new LaneGrant(), Ttl));
    }

    [TestMethod]
    public void TryAdd_ManyThreads_AllLeasesLandWithDistinctIds()
    {
        var table = new LeaseTable(TimeProvider.System);
        string[] ids = new string[2000];
        Parallel.For(0, ids.Length, i => ids[i] = Add(table).Id);

        Assert.AreEqual(ids.Length, ids.Distinct().Count());
        Assert.AreEqual(ids.Length, table.Count);
    }
}
