// ReplyFuzzTests.cs - mutated broker answers through the agent's decoding, validation and socket tuning: no crash.
using LaneShim.Fuzz;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Agent.Tests;

[TestClass]
public sealed class ReplyFuzzTests
{
    [TestMethod]
    [DataRow(1, 25_000)]
    [DataRow(0, 10_000)] // 0: today's seed, so each day's CI run explores new inputs
    public void MutatedReplies_NeverCrashTheAgent(int seed, int inputs)
    {
        if (seed == 0)
        {
            seed = DateTime.UtcNow.Year * 1000 + DateTime.UtcNow.DayOfYear;
        }
        using var fuzzer = new ReplyFuzzer();
        FuzzReport report = fuzzer.Run(seed, 0, inputs);
        Console.WriteLine(report);
        Assert.AreEqual(0L, report.Crashes, string.Join("\n", report.CrashDetails));
        // A fuzzer whose inputs never get past the framing tests nothing beyond it.
        Assert.IsGreaterThan(inputs / 100, report.Decoded, $"too few inputs decoded: {report}");
        Assert.IsGreaterThan(0L, report.Rejected, $"no decoded grant reached the validator's refusals: {report}");
        Assert.IsGreaterThan(0L, report.Applied, $"no grant reached a socket: {report}");
        Assert.IsTrue(report.Statuses.ContainsKey("ResourceExhausted"), $"no oversized frame was generated: {report}");
    }

    [TestMethod]
    public void Generate_IsReproducible()
    {
        FuzzCase a = ReplyMutator.Generate(7, 12345), b = ReplyMutator.Generate(7, 12345);
        Assert.AreEqual(a.ToString(), b.ToString());
        CollectionAssert.AreEqual(a.Body, b.Body);
    }
}
