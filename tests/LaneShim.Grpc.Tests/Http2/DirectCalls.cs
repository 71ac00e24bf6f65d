// DirectCalls.cs - what the direct-client protocol tests share: a RequestLane call on a thread of its own, and checks on what the client sent.
using Grpc.Core;
using LaneShim.Testing;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests.Http2;

/// <summary>Calls through <see cref="BrokerChannel"/> from a dedicated thread, so <see cref="GrpcClient"/> takes its direct path.</summary>
internal static class DirectCalls
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(5);

    /// <summary>A channel on the direct transport (the agent's), reading at most <paramref name="maxReceive"/> bytes per answer.</summary>
    public static BrokerChannel Open(BrokerAddress address, int maxReceive = 4 * 1024 * 1024) =>
        BrokerChannel.Open(address, new BrokerChannelOptions { Transport = BrokerTransport.Direct, MaxReceiveMessageSize = maxReceive });

    public static LaneGrant RequestLane(BrokerChannel client, TimeSpan? deadline = null) =>
        GrpcAssert.OnOwnThread(() => client.RequestLane(SampleMessages.Request(), deadline ?? Generous));

    /// <summary>The grant the scripted servers answer RequestLane with.</summary>
    public static LaneGrant Grant => SampleMessages.GrantFor(SampleMessages.Request());

    /// <summary>The request arrived as a gRPC request should look: method, path, content-type, te, a deadline, the message intact.</summary>
    public static void AssertRequestLane(H2Request request)
    {
        Assert.AreEqual("POST", request.Header(":method"));
        Assert.AreEqual("http", request.Header(":scheme"));
        Assert.AreEqual("/laneshim.v1.LaneBroker/RequestLane", request.Header(":path"));
        Assert.AreEqual("application/grpc", request.Header("content-type"));
        Assert.AreEqual("trailers", request.Header("te"));
        Assert.IsNotNull(request.Header("grpc-timeout"), "no grpc-timeout although the call has a deadline");
        Assert.AreEqual(SampleMessages.Request(), request.Message(LaneRequest.Parser), "the server parsed a different request");
    }
}
