// TopologyVersionTests.cs - installs are compare-and-swap on the topology version: while a link flips down and up,
// concurrent lanes are only ever installed on paths of the version current at install time, and SetLinkState is root-only.
using Grpc.Core;
using LaneShim.Broker.Identity;
using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using LaneShim.Broker.Enforcement;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Paths;
using LaneShim.Broker.Services;
using LaneShim.Core;
using LaneShim.Core.Topology;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Paths;

[TestClass]
public sealed class TopologyVersionTests
{
    // Fastest is client>edgea>edgeb>server (the direct link, mark 1); with it down, the detour over r2 (mark 2).
    private const string Topology = """
        node client host addr=10.60.1.2
        node edgea router
        node r2 router
        node edgeb router
        node server host addr=10.60.2.2
        link client edgea capacity=10gbit latency=0ms
        link edgea edgeb capacity=10gbit latency=5ms mark=0x1
        link edgea r2 capacity=10gbit latency=10ms mark=0x2
        link r2 edgeb capacity=10gbit latency=10ms mark=0x2
        link edgeb server capacity=10gbit latency=0ms
        """;

    private CheckingBackend _backend = null!;
    private PathService _paths = null!;
    private LaneBrokerService _service = null!;

    [TestInitialize]
    public void Setup()
    {
        _backend = new CheckingBackend();
        _paths = new PathService(TopologyParser.Parse(Topology, "v.topo"), _backend, PathMetric.Fastest, NullLogger<PathService>.Instance);
        _backend.Paths = _paths;
        Policy policy = PolicyParser.Parse("class lane rate=10gbit rtt=100ms\nrule -> lane\n", "lanes.conf");
        _service = new LaneBrokerService(new PolicyStore(policy), new LeaseTable(TimeProvider.System), new RttLearner(TimeProvider.System),
            NullLogger<LaneBrokerService>.Instance, "default", _paths);
    }

    private static InProcessCallContext Root() => new("/x", new PeerCredentials(1, 0, 0));

    private static LaneRequest Request(uint localPort) => new()
    {
        Flow = new Flow
        {
            Direction = Direction.Outbound,
            Protocol = 6,
            Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.60.1.2").GetAddressBytes()), Port = localPort },
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.60.2.2").GetAddressBytes()), Port = 5201 },
        },
        Program = new ProgramInfo { Path = "/usr/bin/iperf3", Pid = 1, Uid = 0 },
    };

    [TestMethod]
    public async Task ConcurrentGrantsWhileALinkFlips_NeverInstalledOnAStaleVersion_EveryGrantNamesItsVersion()
    {
        var linkUp = new ConcurrentDictionary<long, bool> { [1] = true };
        var grants = new ConcurrentBag<LaneGrant>();
        using var stop = new CancellationTokenSource();
        Task flipper = Task.Run(async () =>
        {
            for (int i = 0; i < 60; i++)
            {
                bool up = i % 2 == 1;
                SetLinkStateReply reply = await _service.SetLinkState(new SetLinkStateRequest { A = "edgeb", B = "edgea", Up = up }, Root());
                linkUp[reply.TopologyVersion] = up;
                await Task.Delay(Random.Shared.Next(0, 3));
            }
        });
        Task[] requesters = Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < 60; i++)
            {
                grants.Add(await _service.RequestLane(Request((uint)(20000 + (t * 100) + i)), Root()));
            }
        })).ToArray();
        await Task.WhenAll([flipper, .. requesters]);

        Assert.IsEmpty(_backend.Violations, string.Join("\n", _backend.Violations));
        Assert.HasCount(480, grants);
        Assert.IsGreaterThan(0, _backend.Installs);
        int detours = 0;
        foreach (LaneGrant grant in grants)
        {
            Assert.IsTrue(linkUp.TryGetValue(grant.TopologyVersion, out bool up), $"grant on unknown version {grant.TopologyVersion}");
            // The fastest path on a version with the link up is direct; on one without it, the detour.
            Assert.AreEqual(up ? "client>edgea>edgeb>server" : "client>edgea>r2>edgeb>server", grant.PathId, $"version {grant.TopologyVersion}: {grant.Reason}");
            detours += up ? 0 : 1;
        }
        int recomputed = grants.Count(g => g.Reason.Contains("recomputed on topology version", StringComparison.Ordinal));
        Console.WriteLine($"{grants.Count} grants over {linkUp.Count} versions: {detours} on the detour, {recomputed} recomputed after a change, {_backend.Installs} installs");
        Assert.IsGreaterThan(0, detours, "some grants should have been made while the link was down");
    }

    [TestMethod]
    public async Task LinkDown_WithdrawsSteeringOnIt_AndTheNextLaneTakesTheDetour()
    {
        LaneGrant before = await _service.RequestLane(Request(30001), Root());
        Assert.IsTrue(_paths.Installed.ContainsKey(before.LeaseId));

        SetLinkStateReply down = await _service.SetLinkState(new SetLinkStateRequest { A = "edgea", B = "edgeb", Up = false }, Root());

        Assert.AreEqual(2L, down.TopologyVersion);
        Assert.AreEqual(1u, down.SteeringsWithdrawn);
        Assert.IsFalse(_paths.Installed.ContainsKey(before.LeaseId));
        LaneGrant after = await _service.RequestLane(Request(30002), Root());
        Assert.AreEqual("client>edgea>r2>edgeb>server", after.PathId);
        Assert.AreEqual(2L, after.TopologyVersion);
    }

    [TestMethod]
    public async Task SetLinkState_OnlyRootOnTheUnixSocket_UnknownLinkIsNotFound()
    {
        var request = new SetLinkStateRequest { A = "edgea", B = "edgeb", Up = false };
        var user = new InProcessCallContext("/x", new PeerCredentials(1, 1000, 1000));
        var tcp = new InProcessCallContext("/x", null);
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => _service.SetLinkState(request, user));
        Assert.AreEqual(StatusCode.PermissionDenied, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => _service.SetLinkState(request, tcp));
        Assert.AreEqual(StatusCode.PermissionDenied, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => _service.SetLinkState(new SetLinkStateRequest { A = "client", B = "server" }, Root()));
        Assert.AreEqual(StatusCode.NotFound, e.StatusCode);
        StringAssert.Contains(e.Status.Detail, "no link joins 'client' and 'server'");
        Assert.AreEqual(1L, _paths.Topology.Version, "nothing changed");
    }

    /// <summary>The dry-run backend, checking at each install that the path belongs to the topology current right then.</summary>
    private sealed class CheckingBackend : IEnforcementBackend
    {
        private readonly DryRunBackend _inner = new(NullLogger<DryRunBackend>.Instance);
        private int _installs;

        public PathService Paths { get; set; } = null!;

        public ConcurrentQueue<string> Violations { get; } = new();

        public int Installs => _installs;

        public string Name => "checking";

        public async Task InstallAsync(Steering steering, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _installs);
            SiteTopology current = Paths.Topology;
            await Task.Yield(); // give a concurrent topology change every chance to slip in
            SiteTopology after = Paths.Topology;
            foreach (SiteTopology t in new[] { current, after })
            {
                if (steering.Path.TopologyVersion != t.Version)
                {
                    Violations.Enqueue($"{steering.Path.Id} computed on v{steering.Path.TopologyVersion} installed at v{t.Version}");
                }
                foreach (TopologyLink link in steering.Path.Links)
                {
                    if (!t.Links.Any(l => l.Index == link.Index))
                    {
                        Violations.Enqueue($"{steering.Path.Id} uses {link}, absent from v{t.Version}");
                    }
                }
            }
            await _inner.InstallAsync(steering, cancellationToken);
        }

        public Task RenewAsync(Steering steering, CancellationToken cancellationToken) => _inner.RenewAsync(steering, cancellationToken);

        public Task ReconcileAsync(IReadOnlyCollection<(string Router, string? Netns)> routers, IReadOnlyList<Steering> live, CancellationToken cancellationToken) =>
            _inner.ReconcileAsync(routers, live, cancellationToken);

        public Task RemoveAsync(Steering steering, CancellationToken cancellationToken) => _inner.RemoveAsync(steering, cancellationToken);

        public void Prepare(IEnumerable<(string Router, string? Netns)> routers) => _inner.Prepare(routers);
    }
}
