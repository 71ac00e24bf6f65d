// ReplyFuzzTests.cs - fuzzed broker answers through the agent's decoding (its own HTTP/2 + HPACK client, then gRPC), validation and socket tuning: no crash, no hang.
using LaneShim.Fuzz;
using LaneShim.Fuzz.Wire;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Agent.Tests;

[TestClass]
public sealed class ReplyFuzzTests
{
    [TestMethod]
    [DataRow(1, 50_000)]
    [DataRow(0, 20_000)] // 0: today's seed, so each day's CI run explores new inputs
    public void FuzzedWireReplies_NeverCrashOrHangTheAgent(int seed, int inputs)
    {
        seed = seed == 0 ? TodaysSeed() : seed;
        using var fuzzer = new ReplyFuzzer();
        FuzzReport report = fuzzer.Run(seed, 0, inputs, FuzzMode.Wire);
        Console.WriteLine(report);
        Assert.AreEqual(0L, report.Crashes, string.Join("\n", report.CrashDetails));
        Assert.AreEqual(0L, report.Hangs, string.Join("\n", report.CrashDetails));
        // A generator whose streams never get through HTTP/2, HPACK and gRPC tests nothing beyond them (about 17% do)...
        Assert.IsGreaterThan(inputs / 10, report.Decoded, $"too few inputs decoded to a grant: {report}");
        Assert.IsGreaterThan(0L, report.Rejected, $"no decoded grant reached the validator's refusals: {report}");
        Assert.IsGreaterThan(0L, report.Applied, $"no grant reached a socket: {report}");
        // ...and one whose streams are all valid leaves the error paths untested (about half fail in HTTP/2).
        Assert.IsGreaterThan(inputs / 5, report.Http2Failures, $"too few inputs broke HTTP/2: {report}");
        Assert.IsTrue(report.Statuses.ContainsKey("ResourceExhausted"), $"no oversized answer was generated: {report}");
        Assert.IsGreaterThan(0L, report.SecondCalls, $"no connection carried a second call: {report}");
        Assert.IsGreaterThan(0L, report.DeadlineInputs, $"no call ran into its deadline: {report}");
    }

    [TestMethod]
    public void MutatedHttpClientReplies_NeverCrashTheCliPath()
    {
        using var fuzzer = new ReplyFuzzer();
        FuzzReport report = fuzzer.Run(TodaysSeed(), 0, 10_000, FuzzMode.HttpClient);
        Console.WriteLine(report);
        Assert.AreEqual(0L, report.Crashes, string.Join("\n", report.CrashDetails));
        Assert.IsGreaterThan(100L, report.Decoded, $"too few inputs decoded: {report}");
        Assert.IsGreaterThan(0L, report.Applied, $"no grant reached a socket: {report}");
    }

    [TestMethod]
    public void Generate_IsReproducible()
    {
        FuzzCase a = ReplyMutator.Generate(7, 12345), b = ReplyMutator.Generate(7, 12345);
        Assert.AreEqual(a.ToString(), b.ToString());
        CollectionAssert.AreEqual(a.Body, b.Body);
        WireInput c = WireInput.Generate(7, 12345), d = WireInput.Generate(7, 12345);
        CollectionAssert.AreEqual(c.First, d.First);
        Assert.AreEqual(c.ToString(), d.ToString());
    }

    [TestMethod]
    public void CaseSeeds_AreTheSameInEveryProcess()
    {
        // A reported case is replayed in another process from its seed and index: no per-process hash randomization.
        Assert.AreEqual(1872498290, FuzzSeed.For(7, 12345));
        Assert.AreNotEqual(FuzzSeed.For(7, 12345), FuzzSeed.For(7, 12345, stream: 1));
    }

    private static int TodaysSeed() => (DateTime.UtcNow.Year * 1000) + DateTime.UtcNow.DayOfYear;
}
