// FlowLogTests.cs - the closed-flow ring keeps the newest flows, newest first, and counts every one.
using LaneShim.Broker.Telemetry;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Tests.Telemetry;

[TestClass]
public sealed class FlowLogTests
{
    [TestMethod]
    public void Ring_KeepsTheNewestCapacityFlows_NewestFirst()
    {
        var log = new FlowLog(capacity: 4);
        for (int i = 0; i < 10; i++)
        {
            log.Add(new FlowRecord { LeaseId = $"l{i}" });
        }
        Assert.AreEqual(10L, log.Recorded);
        CollectionAssert.AreEqual(new[] { "l9", "l8", "l7", "l6" }, log.Recent().Select(r => r.LeaseId).ToArray());
        CollectionAssert.AreEqual(new[] { "l9", "l8" }, log.Recent(2).Select(r => r.LeaseId).ToArray());
    }

    [TestMethod]
    public void Ring_KeepsCopies()
    {
        var log = new FlowLog(capacity: 2);
        var record = new FlowRecord { LeaseId = "a" };
        log.Add(record);
        record.LeaseId = "changed";
        log.Recent()[0].LeaseId = "changed too";
        Assert.AreEqual("a", log.Recent()[0].LeaseId);
    }
}
