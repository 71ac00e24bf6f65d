// UnitsTests.cs - table tests for parsing and formatting rates, sizes and durations.
using LaneShim.Core;

namespace LaneShim.Core.Tests;

[TestClass]
public sealed class UnitsTests
{
    [TestMethod]
    [DataRow("1gbit", 1_000_000_000UL)]
    [DataRow("100mbit", 100_000_000UL)]
    [DataRow("2.38gbit", 2_380_000_000UL)]
    [DataRow("10g", 10_000_000_000UL)]
    [DataRow("500m", 500_000_000UL)]
    [DataRow("1000000", 1_000_000UL)]
    [DataRow("1 Gbit/s", 1_000_000_000UL)]
    [DataRow("10GBIT/S", 10_000_000_000UL)]
    [DataRow("64kbit", 64_000UL)]
    [DataRow("1.5tbits/s", 1_500_000_000_000UL)]
    [DataRow("  40 mbit  ", 40_000_000UL)]
    [DataRow("0", 0UL)]
    public void ParseRate_ValidText_GivesBitsPerSecond(string text, ulong expected)
    {
        Assert.IsTrue(Units.TryParseRate(text, out ulong bps, out string error), error);
        Assert.AreEqual(expected, bps);
        Assert.AreEqual(string.Empty, error);
    }

    [TestMethod]
    [DataRow("", "bad rate '': expected a number")]
    [DataRow("fast", "bad rate 'fast': expected a number")]
    [DataRow("-1gbit", "bad rate '-1gbit': expected a number")]
    [DataRow("1e9", "bad rate '1e9': unknown unit 'e9'")]
    [DataRow("1gbps", "bad rate '1gbps': 'bps' is ambiguous (tc reads it as bytes/s); write bit/s, e.g. 1gbit")]
    [DataRow("100MB/s", "bad rate '100MB/s': rates are in bits per second; write e.g. 800mbit for 100 MB/s")]
    [DataRow("1.2.3g", "bad rate '1.2.3g': unknown unit '.3g'")]
    [DataRow("5 furlongs", "bad rate '5 furlongs': unknown unit 'furlongs'")]
    public void ParseRate_BadText_SaysWhy(string text, string expectedStart)
    {
        Assert.IsFalse(Units.TryParseRate(text, out _, out string error));
        Assert.StartsWith(expectedStart, error);
    }

    [TestMethod]
    public void ParseRate_BadText_ThrowsFormatException()
    {
        FormatException ex = Assert.ThrowsExactly<FormatException>(() => Units.ParseRate("quick"));
        Assert.StartsWith("bad rate 'quick'", ex.Message);
    }

    [TestMethod]
    [DataRow("65536", 65_536L)]
    [DataRow("64K", 65_536L)]
    [DataRow("64k", 65_536L)]
    [DataRow("64KiB", 65_536L)]
    [DataRow("4M", 4_194_304L)]
    [DataRow("4MiB", 4_194_304L)]
    [DataRow("5MB", 5_000_000L)]
    [DataRow("5mb", 5_000_000L)]
    [DataRow("1.5K", 1_536L)]
    [DataRow("2G", 2_147_483_648L)]
    [DataRow("1GB", 1_000_000_000L)]
    [DataRow("1TiB", 1_099_511_627_776L)]
    [DataRow("100 B", 100L)]
    [DataRow("53.55 MB", 53_550_000L)]
    public void ParseSize_ValidText_GivesBytes(string text, long expected)
    {
        Assert.IsTrue(Units.TryParseSize(text, out long bytes, out string error), error);
        Assert.AreEqual(expected, bytes);
    }

    [TestMethod]
    [DataRow("", "bad size '': expected a number")]
    [DataRow("big", "bad size 'big': expected a number")]
    [DataRow("4mbit", "bad size '4mbit': unknown unit 'mbit'")]
    [DataRow("99999999999T", "bad size '99999999999T': too large")]
    public void ParseSize_BadText_SaysWhy(string text, string expectedStart)
    {
        Assert.IsFalse(Units.TryParseSize(text, out _, out string error));
        Assert.StartsWith(expectedStart, error);
    }

    [TestMethod]
    [DataRow("40ms", 40 * TimeSpan.TicksPerMillisecond)]
    [DataRow("1.5s", 15 * TimeSpan.TicksPerSecond / 10)]
    [DataRow("250us", 2_500L)]
    [DataRow("250µs", 2_500L)]
    [DataRow("2m", 2 * TimeSpan.TicksPerMinute)]
    [DataRow("10min", 10 * TimeSpan.TicksPerMinute)]
    [DataRow("1h", TimeSpan.TicksPerHour)]
    [DataRow("180 MS", 180 * TimeSpan.TicksPerMillisecond)]
    [DataRow("500ns", 5L)]
    [DataRow("0", 0L)]
    public void ParseDuration_ValidText_GivesTicks(string text, long expectedTicks)
    {
        Assert.IsTrue(Units.TryParseDuration(text, out TimeSpan duration, out string error), error);
        Assert.AreEqual(expectedTicks, duration.Ticks);
    }

    [TestMethod]
    [DataRow("40", "bad duration '40': missing unit")]
    [DataRow("40 parsecs", "bad duration '40 parsecs': unknown unit 'parsecs'")]
    [DataRow("soon", "bad duration 'soon': expected a number with a unit")]
    public void ParseDuration_BadText_SaysWhy(string text, string expectedStart)
    {
        Assert.IsFalse(Units.TryParseDuration(text, out _, out string error));
        Assert.StartsWith(expectedStart, error);
    }

    [TestMethod]
    [DataRow(1_000_000_000UL, "1 Gbit/s")]
    [DataRow(2_380_000_000UL, "2.38 Gbit/s")]
    [DataRow(10_000_000_000UL, "10 Gbit/s")]
    [DataRow(13_107_200UL, "13.1 Mbit/s")]
    [DataRow(500_000UL, "500 kbit/s")]
    [DataRow(999UL, "999 bit/s")]
    [DataRow(999_999_999UL, "1 Gbit/s")]
    [DataRow(0UL, "0 bit/s")]
    public void FormatRate_Value_IsHuman(ulong bps, string expected)
    {
        Assert.AreEqual(expected, Units.FormatRate(bps));
    }

    [TestMethod]
    [DataRow(5_000_000L, "5.00 MB")]
    [DataRow(53_550_000L, "53.55 MB")]
    [DataRow(65_536L, "64 KiB")]
    [DataRow(33_554_432L, "32 MiB")]
    [DataRow(212_992L, "208 KiB")]
    [DataRow(512L, "512 B")]
    [DataRow(1_000L, "1.00 kB")]
    [DataRow(999_999L, "1.00 MB")]
    [DataRow(0L, "0 B")]
    public void FormatSize_Value_IsHuman(long bytes, string expected)
    {
        Assert.AreEqual(expected, Units.FormatSize(bytes));
    }

    [TestMethod]
    [DataRow(5_000_000L)]
    [DataRow(65_536L)]
    [DataRow(6_291_456L)]
    [DataRow(53_550_000L)]
    public void FormatSize_Output_ParsesBack(long bytes)
    {
        Assert.AreEqual(bytes, Units.ParseSize(Units.FormatSize(bytes)));
    }

    [TestMethod]
    public void FormatByteRate_PacingOfOneGigabit_Is125MegabytesPerSecond()
    {
        Assert.AreEqual("125 MB/s", Units.FormatByteRate(125_000_000));
    }

    [TestMethod]
    [DataRow(40 * TimeSpan.TicksPerMillisecond, "40 ms")]
    [DataRow(15 * TimeSpan.TicksPerSecond / 10, "1.5 s")]
    [DataRow(2_500L, "250 us")]
    [DataRow(10 * TimeSpan.TicksPerMinute, "10 min")]
    [DataRow(382 * TimeSpan.TicksPerMillisecond / 10, "38.2 ms")]
    public void FormatDuration_Value_IsHuman(long ticks, string expected)
    {
        Assert.AreEqual(expected, Units.FormatDuration(TimeSpan.FromTicks(ticks)));
    }
}
