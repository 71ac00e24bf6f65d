// PolicyStoreTests.cs - reloading keeps the last good policy when the new one is rejected.
using LaneShim.Core;

namespace LaneShim.Broker.Tests;

[TestClass]
public sealed class PolicyStoreTests
{
    [TestMethod]
    public void TryReload_BadPolicy_KeepsTheLastGoodOne()
    {
        Policy good = PolicyParser.Parse("class a rate=1g rtt=1ms\nrule -> a\n", "lanes.conf");
        var store = new PolicyStore(good);

        bool reloaded = store.TryReload(() => PolicyParser.Parse("class a rate=1g\n", "lanes.conf"), out string? error);

        Assert.IsFalse(reloaded);
        Assert.AreEqual("lanes.conf:1: class 'a' needs rtt=<duration> or rtt=learn", error);
        Assert.AreSame(good, store.Current);
    }

    [TestMethod]
    public void TryReload_GoodPolicy_SwapsItIn()
    {
        var store = new PolicyStore(PolicyParser.Parse("", "old"));
        Assert.IsTrue(store.TryReload(() => PolicyParser.Parse("class b rate=1g rtt=1ms\n", "new"), out _));
        Assert.AreEqual("new", store.Current.FileName);
    }
}
