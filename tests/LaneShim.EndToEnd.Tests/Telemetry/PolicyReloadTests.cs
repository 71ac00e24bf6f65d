// PolicyReloadTests.cs - SIGHUP to a real broker process swaps in an edited policy file, refuses a broken one with file:line, and /metrics keeps counting.
using System.Globalization;
using System.Net;
using Google.Protobuf;
using LaneShim.Protocol.V1;
using LaneShim.Testing;

namespace LaneShim.EndToEnd.Tests.Telemetry;

[TestClass]
public sealed class PolicyReloadTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    private static LaneRequest Request(uint port) => new()
    {
        Flow = new Flow
        {
            Direction = Direction.Outbound,
            Protocol = 6,
            Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.62.1.2").GetAddressBytes()), Port = port },
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.62.2.2").GetAddressBytes()), Port = 5201 },
        },
        Program = new LaneShim.Protocol.V1.Program { Path = "/usr/bin/iperf3", Pid = 1 },
    };

    [TestMethod]
    public async Task Sighup_ReloadsThePolicyFile_ABrokenFileIsRefusedWithFileAndLine_MetricsStillServed()
    {
        using var fx = new TelemetryFixture("class lane rate=10mbit rtt=10ms\nrule -> lane\n", metrics: true);
        LaneGrant before = await fx.Client.RequestLaneAsync(Request(41001), Deadline);
        Assert.AreEqual("lane", before.LaneClass);
        Assert.AreEqual(10_000_000UL, before.RateBps);

        File.WriteAllText(fx.PolicyFile, "class fast rate=20mbit rtt=10ms\nrule -> fast\n");
        Hangup(fx);
        LaneGrant after = before;
        for (uint port = 41002; after.LaneClass != "fast" && port < 41400; port++)
        {
            await Task.Delay(20); // polling interval; the loop ends by its port budget (about 8 s)
            after = await fx.Client.RequestLaneAsync(Request(port), Deadline);
        }
        Assert.AreEqual("fast", after.LaneClass, fx.BrokerLog);
        Assert.AreEqual(20_000_000UL, after.RateBps);

        File.WriteAllText(fx.PolicyFile, "class fast rate=20mbit rtt=10ms\nrule -> nowhere\n");
        Hangup(fx);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!fx.BrokerLog.Contains("policy reload refused", StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        StringAssert.Contains(fx.BrokerLog, "policy reload refused", "a broken policy file was not refused");
        StringAssert.Contains(fx.BrokerLog, $"{fx.PolicyFile}:2", "the refusal does not name the file and line");
        LaneGrant still = await fx.Client.RequestLaneAsync(Request(41500), Deadline);
        Assert.AreEqual("fast", still.LaneClass, "a broken file must leave the running policy as it was");

        ProcessResult scrape = ProcessRunner.Run("/usr/bin/curl", ["-sS", fx.MetricsUrl!], timeout: TimeSpan.FromSeconds(10));
        Assert.AreEqual(0, scrape.ExitCode, scrape.Describe());
        PrometheusParser.Exposition metrics = PrometheusParser.Parse(scrape.Stdout);
        // The broker's own warm-up at start is one grant of the first policy's class; ours before the reload the second.
        Assert.AreEqual(2.0, metrics.Sum("laneshim_grants_total", ("class", "lane"), ("result", "granted")), scrape.Stdout);
        Assert.IsTrue(metrics.Sum("laneshim_grants_total", ("class", "fast"), ("result", "granted")) >= 2, scrape.Stdout);
    }

    private static void Hangup(TelemetryFixture fx) =>
        ProcessRunner.Check("/bin/kill", "-HUP", fx.BrokerPid.ToString(CultureInfo.InvariantCulture));
}
