// KernelReportGrantTests.cs - a kernel connect report goes through a real broker's grant pipeline as a kernel caller:
// granted without a socket proof, leased to the socket's owner, audited and counted; the same request on the wire is refused.
using System.Net;
using System.Text.Json;
using Grpc.Core;
using LaneShim.Broker.Bpf;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Tests.Identity;
using LaneShim.Protocol.V1;
using LaneShim.Testing;

namespace LaneShim.Broker.Tests.Bpf;

[TestClass]
public sealed class KernelReportGrantTests
{
    private const string Policy = """
        class fat rate=10gbit rtt=100ms ttl=10m
        rule dst=any -> fat
        """;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [TestMethod]
    public async Task KernelReport_IsGrantedWithoutSocketProof_LeasedToTheSocketOwner_AuditedAndCounted_WhileTheSameRequestOnTheWireIsRefused()
    {
        await using BrokerUnderTest broker = await BrokerUnderTest.StartAsync(Policy);
        // What BpfLanePath makes of a connect report: the 5-tuple and the socket creator, no descriptor in this process.
        LaneRequest request = BrokerUnderTest.Request(IPAddress.Loopback, 41234, fd: -1, pid: 4242, Direction.Outbound, IPAddress.Parse("10.9.9.9"), 5201);
        var owner = new PeerCredentials(4242, 1234, 1234);
        var flow = new KernelFlow(request, owner, Cookie: 77);
        var grants = new ServiceKernelFlowGrants(broker.Server.Service);

        // On the wire the broker proves the caller's socket: there is none, so it refuses.
        RpcException wire = await Assert.ThrowsExactlyAsync<RpcException>(async () => await broker.Client.RequestLaneAsync(request, Deadline));
        Assert.AreEqual(StatusCode.PermissionDenied, wire.StatusCode, wire.Status.Detail);

        KernelGrantOutcome outcome = await grants.GrantAsync(flow, CancellationToken.None);
        Assert.AreEqual(StatusCode.OK, outcome.Status, outcome.Detail);
        LaneGrant grant = outcome.Grant!;
        Assert.AreEqual("fat", grant.LaneClass);
        Assert.AreEqual(0u, grant.BrokerApplied, "nothing to apply on a socket the broker did not take");

        Lease lease = broker.Client.ListLeases(new ListLeasesRequest(), Deadline).Leases.Single(l => l.LeaseId == grant.LeaseId);
        Assert.AreEqual(1234u, lease.Program.Uid, "the lease belongs to the socket's creator");
        Assert.IsTrue(await grants.RenewAsync(grant.LeaseId, flow, CancellationToken.None), "the owner's kernel flow renews its lease");
        await grants.ReleaseAsync(grant.LeaseId, flow, new FlowStats { DurationMs = 1000, BytesAcked = 1_000_000, MinRttUs = 100, SrttUs = 120 }, CancellationToken.None);
        Assert.IsFalse(broker.Client.ListLeases(new ListLeasesRequest(), Deadline).Leases.Any(l => l.LeaseId == grant.LeaseId), "released at close");
        Assert.IsFalse(await grants.RenewAsync(grant.LeaseId, flow, CancellationToken.None), "a released lease does not renew");
        string metrics = broker.Server.Service.Telemetry.Metrics.Render(broker.Server.Service.Leases, broker.Server.Service.Paths);
        StringAssert.Contains(metrics, "laneshim_grants_total{class=\"fat\",result=\"granted\"}", "the kernel's grant is counted as the agent's are");

        await broker.StopAsync();
        JsonElement[] lines = broker.AuditLines().Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        JsonElement kernel = lines.Single(l => l.GetProperty("verdict").GetString() == "grant" && l.GetProperty("lease").GetString() == grant.LeaseId[..8]);
        Assert.AreEqual("RequestLane", kernel.GetProperty("method").GetString());
        Assert.AreEqual(CallerIdentity.KernelPeer, kernel.GetProperty("peer").GetString());
        Assert.AreEqual("kernel: sock_ops report", kernel.GetProperty("proof").GetString());
        Assert.AreEqual(1234u, kernel.GetProperty("uid").GetUInt32());
        Assert.AreEqual(4242, kernel.GetProperty("pid").GetInt32());
        Assert.IsTrue(lines.Any(l => l.GetProperty("verdict").GetString() == "proof-failed"), "the wire request's refusal is audited too");
        Assert.AreEqual(1, lines.Count(l => l.GetProperty("verdict").GetString() == "release" && l.GetProperty("peer").GetString() == CallerIdentity.KernelPeer));
    }
}
