// GrpcTimeoutTests.cs - the grpc-timeout header: finest unit that fits, rounding up, and strict parsing.
namespace LaneShim.Grpc.Tests;

using LaneShim.Grpc.Http2;

[TestClass]
public sealed class GrpcTimeoutTests
{
    [TestMethod]
    [DataRow(0L, "0n")]
    [DataRow(1L, "100n")]                    // one tick
    [DataRow(999_999L, "99999900n")]         // largest that fits in nanoseconds
    [DataRow(1_000_000L, "100000u")]         // 100 ms: 100,000,000 ns is 9 digits
    [DataRow(200_000L, "20000000n")]         // 20 ms
    [DataRow(999_999_990L, "99999999u")]     // 99.999999 s
    [DataRow(999_999_999L, "100000m")]       // 99.9999999 s is 100,000,000 µs rounded up: one digit too many
    [DataRow(1_000_000_000L, "100000m")]     // 100 s
    [DataRow(10_000_000L * 3600, "3600000m")] // one hour
    [DataRow(10_000_000L * 200_000, "200000S")]
    [DataRow(10_000_000L * 100_000_000, "1666667M")] // 100,000,000 s: rounded up to whole minutes
    public void Format_PicksFinestUnitThatFits(long ticks, string expected)
    {
        Assert.AreEqual(expected, GrpcTimeout.Format(TimeSpan.FromTicks(ticks)));
    }

    [TestMethod]
    public void Format_Negative_ZeroNanoseconds()
    {
        Assert.AreEqual("0n", GrpcTimeout.Format(TimeSpan.FromSeconds(-3)));
    }

    [TestMethod]
    public void Format_MaxTimeSpan_StaysWithinEightDigits()
    {
        string text = GrpcTimeout.Format(TimeSpan.MaxValue);

        Assert.IsTrue(text.Length <= 9, text);
        Assert.AreEqual('H', text[^1]);
    }

    [TestMethod]
    public void Format_RoundsUpNeverDown()
    {
        // 100,000,001 µs does not fit in 8 digits of µs; in ms it is 100,000.001, sent as 100001m.
        Assert.AreEqual("100001m", GrpcTimeout.Format(TimeSpan.FromTicks(1_000_000_010)));
    }

    [TestMethod]
    [DataRow("1H", 36_000_000_000L)]
    [DataRow("2M", 1_200_000_000L)]
    [DataRow("3S", 30_000_000L)]
    [DataRow("250m", 2_500_000L)]
    [DataRow("7u", 70L)]
    [DataRow("100n", 1L)]
    [DataRow("1n", 1L)]                      // rounds up to a whole tick, never to zero
    [DataRow("0n", 0L)]
    [DataRow("99999999H", 3_599_999_964_000_000_000L)]
    public void TryParse_ValidValues(string text, long ticks)
    {
        Assert.IsTrue(GrpcTimeout.TryParse(text, out TimeSpan timeout));
        Assert.AreEqual(TimeSpan.FromTicks(ticks), timeout);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("m")]
    [DataRow("10")]
    [DataRow("10x")]
    [DataRow("10 m")]
    [DataRow("-1m")]
    [DataRow("+1m")]
    [DataRow("123456789m")] // nine digits
    [DataRow("1.5S")]
    [DataRow("１m")]        // a non-ASCII digit
    [DataRow("10h")]        // units are case-sensitive: h is not H
    public void TryParse_InvalidValues_False(string text)
    {
        Assert.IsFalse(GrpcTimeout.TryParse(text, out _), text);
    }

    [TestMethod]
    public void FormatThenParse_NeverShortensTheDeadline()
    {
        var random = new Random(1234);
        for (int i = 0; i < 10_000; i++)
        {
            var original = TimeSpan.FromTicks(random.NextInt64(0, TimeSpan.FromDays(5000).Ticks) >> random.Next(0, 40));
            string text = GrpcTimeout.Format(original);

            Assert.IsTrue(GrpcTimeout.TryParse(text, out TimeSpan back), text);
            Assert.IsTrue(back >= original, $"{original} became {text} = {back}");
            Assert.IsTrue(back - original <= TimeSpan.FromTicks(Math.Max(1, original.Ticks / 100_000)), $"{original} became {text} = {back}: too coarse");
        }
    }
}
