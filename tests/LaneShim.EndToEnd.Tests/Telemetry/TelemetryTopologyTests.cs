// TelemetryTopologyTests.cs - a real broker process with a topology: SetLinkState over its Unix socket (as root) bumps the
// version, later grants name the new path and version, and /metrics shows the link gone and the version.
using Grpc.Core;
using System.Net;
using Google.Protobuf;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Telemetry;

[TestClass]
public sealed class TelemetryTopologyTests
{
    private const string Topology = """
        node client host addr=10.61.1.2
        node edgea router
        node r2 router
        node edgeb router
        node server host addr=10.61.2.2
        link client edgea capacity=10gbit latency=0ms
        link edgea edgeb capacity=1gbit latency=5ms mark=0x1
        link edgea r2 capacity=10gbit latency=10ms mark=0x2
        link r2 edgeb capacity=10gbit latency=10ms mark=0x2
        link edgeb server capacity=10gbit latency=0ms
        """;

    private static LaneRequest Request(uint port) => new()
    {
        Flow = new Flow
        {
            Direction = Direction.Outbound,
            Protocol = 6,
            Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.61.1.2").GetAddressBytes()), Port = port },
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.61.2.2").GetAddressBytes()), Port = 5201 },
        },
        Program = new LaneShim.Protocol.V1.Program { Path = "/usr/bin/iperf3", Pid = 1 },
    };

    [TestMethod]
    public async Task SetLinkState_OverTheRealSocketAsRoot_NewVersionNewPath_MetricsFollow()
    {
        Privileges.RequireRoot("SetLinkState is root-only (SO_PEERCRED)");
        using var fx = new TelemetryFixture("class lane rate=10gbit rtt=50ms\nrule -> lane\n", metrics: true, topology: Topology);
        TimeSpan deadline = TimeSpan.FromSeconds(5);
        LaneGrant before = await fx.Client.RequestLaneAsync(Request(40001), deadline);
        Assert.AreEqual("client>edgea>edgeb>server", before.PathId);
        Assert.AreEqual(1L, before.TopologyVersion);

        SetLinkStateReply down = await fx.Client.SetLinkStateAsync(new SetLinkStateRequest { A = "edgea", B = "edgeb", Up = false }, deadline);
        Assert.AreEqual(2L, down.TopologyVersion);
        Assert.AreEqual(1u, down.SteeringsWithdrawn, fx.BrokerLog);
        LaneGrant after = await fx.Client.RequestLaneAsync(Request(40002), deadline);
        Assert.AreEqual("client>edgea>r2>edgeb>server", after.PathId, after.Reason);
        Assert.AreEqual(2L, after.TopologyVersion);
        Assert.AreEqual(10_000_000_000UL, after.RateBps, "the detour's bottleneck is 10 Gbit/s");

        ProcessResult scrape = ProcessRunner.Run("/usr/bin/curl", ["-sS", fx.MetricsUrl!], timeout: TimeSpan.FromSeconds(10));
        PrometheusParser.Exposition metrics = PrometheusParser.Parse(scrape.Stdout);
        Assert.AreEqual(2.0, metrics.Sum("laneshim_topology_version"), scrape.Stdout);
        Assert.IsFalse(metrics.Samples.Any(s => s.Name == "laneshim_link_capacity_bps" && s.Labels["link"] == "edgea-edgeb"), scrape.Stdout);
        Assert.AreEqual(10_000_000_000.0, metrics.Sum("laneshim_link_granted_bps", ("link", "edgea-r2")), scrape.Stdout);

        RpcException unknown = await Assert.ThrowsAsync<RpcException>(() => fx.Client.SetLinkStateAsync(new SetLinkStateRequest { A = "client", B = "server" }, deadline));
        Assert.AreEqual(StatusCode.NotFound, unknown.StatusCode);
    }

    [TestMethod]
    public async Task Sighup_ReloadsTheTopologyFileAsTheNextVersion_ABadFileIsRefusedAndTheOldOneStays()
    {
        using var fx = new TelemetryFixture("class lane rate=10gbit rtt=50ms\nrule -> lane\n", metrics: true, topology: Topology);
        TimeSpan deadline = TimeSpan.FromSeconds(5);
        LaneGrant before = await fx.Client.RequestLaneAsync(Request(40011), deadline);
        Assert.AreEqual("client>edgea>edgeb>server", before.PathId);

        File.WriteAllText(fx.TopologyFile, Topology.Replace("link edgea edgeb capacity=1gbit latency=5ms mark=0x1\n", "", StringComparison.Ordinal));
        ProcessRunner.Check("/bin/kill", "-HUP", fx.BrokerPid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        LaneGrant after = before;
        for (uint port = 40012; after.TopologyVersion < 2 && port < 40400; port++)
        {
            await Task.Delay(20);
            after = await fx.Client.RequestLaneAsync(Request(port), deadline);
        }
        Assert.AreEqual(2L, after.TopologyVersion, fx.BrokerLog);
        Assert.AreEqual("client>edgea>r2>edgeb>server", after.PathId);
        string scrape = ProcessRunner.Run("/usr/bin/curl", ["-sS", fx.MetricsUrl!], timeout: TimeSpan.FromSeconds(10)).Stdout;
        Assert.IsFalse(PrometheusParser.Parse(scrape).Samples.Any(s => s.Labels.TryGetValue("link", out string? l) && l == "edgea-edgeb"), scrape);
        StringAssert.Contains(fx.BrokerLog, "1 steered lanes withdrawn", "the first lane's path used the removed link");

        File.WriteAllText(fx.TopologyFile, "node client host\nlink client nowhere capacity=1gbit\n");
        ProcessRunner.Check("/bin/kill", "-HUP", fx.BrokerPid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!fx.BrokerLog.Contains("topology reload refused", StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        StringAssert.Contains(fx.BrokerLog, $"{fx.TopologyFile}:2");
        LaneGrant still = await fx.Client.RequestLaneAsync(Request(40500), deadline);
        Assert.AreEqual(2L, still.TopologyVersion, "a bad file leaves the running topology as it was");
        Assert.AreEqual("client>edgea>r2>edgeb>server", still.PathId);
    }
}
