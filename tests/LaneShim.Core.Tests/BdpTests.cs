// BdpTests.cs - the bandwidth-delay product worked examples, exact to the byte.
using LaneShim.Core;

namespace LaneShim.Core.Tests;

[TestClass]
public sealed class BdpTests
{
    [TestMethod]
    public void Bytes_OneGigabitAtFortyMilliseconds_IsFiveMillionBytes()
    {
        Assert.AreEqual(5_000_000L, Bdp.Bytes(1_000_000_000, TimeSpan.FromMilliseconds(40)));
    }

    [TestMethod]
    public void Bytes_LandSpeedRecordPath_Is53550000Bytes()
    {
        // CERN-Sunnyvale 2003: 2.38 Gbit/s at about 180 ms needs about 54 MB of window.
        long bdp = Bdp.Bytes(Units.ParseRate("2.38gbit"), Units.ParseDuration("180ms"));
        Assert.AreEqual(53_550_000L, bdp);
        Assert.AreEqual("53.55 MB", Units.FormatSize(bdp));
    }

    [TestMethod]
    public void Bytes_FractionalByte_RoundsUp()
    {
        // 1 bit/s x 1 s = 0.125 bytes: a buffer must hold the whole product, so 1.
        Assert.AreEqual(1L, Bdp.Bytes(1, TimeSpan.FromSeconds(1)));
    }

    [TestMethod]
    public void Bytes_ZeroRtt_IsZero()
    {
        Assert.AreEqual(0L, Bdp.Bytes(10_000_000_000, TimeSpan.Zero));
    }

    [TestMethod]
    public void Bytes_HugeRateTimesLongRtt_DoesNotOverflow()
    {
        // 400 Gbit/s x 10 s overflows 64-bit bit-ticks (4e11 x 1e8); the 128-bit path gives 500 GB exactly.
        Assert.AreEqual(500_000_000_000L, Bdp.Bytes(400_000_000_000, TimeSpan.FromSeconds(10)));
    }

    [TestMethod]
    public void Bytes_NegativeRtt_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Bdp.Bytes(1, TimeSpan.FromTicks(-1)));
    }

    [TestMethod]
    public void Throughput_64KiBWindowAtFortyMilliseconds_Is13Point1Mbit()
    {
        ulong bps = Bdp.ThroughputBitsPerSecond(64 * 1024, TimeSpan.FromMilliseconds(40));
        Assert.AreEqual(13_107_200UL, bps);
        Assert.AreEqual("13.1 Mbit/s", Units.FormatRate(bps));
    }

    [TestMethod]
    public void Throughput_OfTheBdp_GivesBackTheRate()
    {
        TimeSpan rtt = TimeSpan.FromMilliseconds(88);
        const ulong rate = 100_000_000_000;
        Assert.AreEqual(rate, Bdp.ThroughputBitsPerSecond(Bdp.Bytes(rate, rtt), rtt));
    }

    [TestMethod]
    public void Throughput_ZeroRtt_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Bdp.ThroughputBitsPerSecond(65536, TimeSpan.Zero));
    }
}
