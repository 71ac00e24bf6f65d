// RttLearnerTests.cs - learned RTTs: fallback before samples, per-/24 sharing, EWMA, expiry, bad samples.
using System.Net;
using LaneShim.Core;

namespace LaneShim.Broker.Tests;

[TestClass]
public sealed class RttLearnerTests
{
    private static readonly LaneClass Wan = new()
    {
        Name = "wan",
        RateBps = 10_000_000_000,
        RttMode = RttMode.Learn,
        Rtt = TimeSpan.FromMilliseconds(100),
    };

    [TestMethod]
    public void Choose_NoSampleYet_UsesTheClassFallback()
    {
        var learner = new RttLearner(new FakeClock());
        RttChoice choice = learner.Choose(Wan, IPAddress.Parse("10.20.1.5"));

        Assert.AreEqual(RttSource.Fallback, choice.Source);
        Assert.AreEqual(TimeSpan.FromMilliseconds(100), choice.Rtt);
    }

    [TestMethod]
    public void Choose_AfterASample_UsesTheLearnedMinRtt()
    {
        var learner = new RttLearner(new FakeClock());
        Assert.IsTrue(learner.Record(IPAddress.Parse("10.20.1.5"), minRttUs: 38_000, srttUs: 45_000));

        RttChoice choice = learner.Choose(Wan, IPAddress.Parse("10.20.1.5"));
        Assert.AreEqual(RttSource.Learned, choice.Source);
        Assert.AreEqual(TimeSpan.FromMilliseconds(38), choice.Rtt);
    }

    [TestMethod]
    public void Choose_OtherHostInSameSlash24_SharesTheEstimate()
    {
        var learner = new RttLearner(new FakeClock());
        learner.Record(IPAddress.Parse("10.20.1.5"), 38_000, 0);

        Assert.AreEqual(RttSource.Learned, learner.Choose(Wan, IPAddress.Parse("10.20.1.200")).Source);
        Assert.AreEqual(RttSource.Learned, learner.Choose(Wan, IPAddress.Parse("::ffff:10.20.1.9")).Source);
        Assert.AreEqual(RttSource.Fallback, learner.Choose(Wan, IPAddress.Parse("10.20.2.5")).Source);
    }

    [TestMethod]
    public void Choose_FixedClass_IgnoresSamples()
    {
        var learner = new RttLearner(new FakeClock());
        learner.Record(IPAddress.Parse("10.20.1.5"), 1_000, 0);
        LaneClass fixedClass = Wan with { RttMode = RttMode.Fixed, Rtt = TimeSpan.FromMilliseconds(40) };

        Assert.AreEqual(new RttChoice(TimeSpan.FromMilliseconds(40), RttSource.Fixed), learner.Choose(fixedClass, IPAddress.Parse("10.20.1.5")));
    }

    [TestMethod]
    public void Choose_ListeningSocketWithoutPeer_UsesFallback()
    {
        Assert.AreEqual(RttSource.Fallback, new RttLearner(new FakeClock()).Choose(Wan, null).Source);
    }

    [TestMethod]
    public void Record_SecondSample_MovesAQuarterOfTheWay()
    {
        var learner = new RttLearner(new FakeClock());
        IPAddress peer = IPAddress.Parse("2001:db8:0:1::5");
        learner.Record(peer, 40_000, 0);
        learner.Record(peer, 80_000, 0);

        Assert.IsTrue(learner.TryGetRtt(IPAddress.Parse("2001:db8:0:1::99"), out TimeSpan rtt));
        Assert.AreEqual(TimeSpan.FromMilliseconds(50), rtt);
    }

    [TestMethod]
    public void Record_MinRttZero_FallsBackToSrtt()
    {
        var learner = new RttLearner(new FakeClock());
        learner.Record(IPAddress.Parse("192.0.2.1"), 0, 12_000);

        Assert.IsTrue(learner.TryGetRtt(IPAddress.Parse("192.0.2.1"), out TimeSpan rtt));
        Assert.AreEqual(TimeSpan.FromMilliseconds(12), rtt);
    }

    [TestMethod]
    [DataRow(0u, 0u)]
    [DataRow(20_000_000u, 0u)]
    public void Record_UnusableSample_IsRefused(uint minRttUs, uint srttUs)
    {
        var learner = new RttLearner(new FakeClock());
        Assert.IsFalse(learner.Record(IPAddress.Parse("192.0.2.1"), minRttUs, srttUs));
        Assert.AreEqual(0, learner.Count);
    }

    [TestMethod]
    public void TryGetRtt_AfterTheSampleLifetime_IsForgotten()
    {
        var clock = new FakeClock();
        var learner = new RttLearner(clock, sampleLifetime: TimeSpan.FromMinutes(10));
        learner.Record(IPAddress.Parse("10.0.0.1"), 5_000, 0);

        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.IsFalse(learner.TryGetRtt(IPAddress.Parse("10.0.0.1"), out _));
        Assert.AreEqual(RttSource.Fallback, learner.Choose(Wan, IPAddress.Parse("10.0.0.1")).Source);
    }

    [TestMethod]
    public void Record_BeyondCapacity_DropsTheStalestDestination()
    {
        var clock = new FakeClock();
        var learner = new RttLearner(clock, capacity: 2);
        learner.Record(IPAddress.Parse("10.0.1.1"), 1_000, 0);
        clock.Advance(TimeSpan.FromSeconds(1));
        learner.Record(IPAddress.Parse("10.0.2.1"), 2_000, 0);
        clock.Advance(TimeSpan.FromSeconds(1));
        learner.Record(IPAddress.Parse("10.0.3.1"), 3_000, 0);

        Assert.IsFalse(learner.TryGetRtt(IPAddress.Parse("10.0.1.1"), out _));
        Assert.IsTrue(learner.TryGetRtt(IPAddress.Parse("10.0.2.1"), out _));
        Assert.IsTrue(learner.TryGetRtt(IPAddress.Parse("10.0.3.1"), out _));
    }

    [TestMethod]
    [DataRow("10.20.1.5", "10.20.1.0/24")]
    [DataRow("::ffff:10.20.1.5", "10.20.1.0/24")]
    [DataRow("2001:db8:0:1:aaaa::5", "2001:db8:0:1::/64")]
    public void DestinationKey_Address_IsItsSubnet(string address, string expected)
    {
        Assert.AreEqual(expected, RttLearner.DestinationKey(IPAddress.Parse(address)));
    }
}
