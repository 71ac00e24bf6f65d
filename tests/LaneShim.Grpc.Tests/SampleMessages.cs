// SampleMessages.cs - realistic LaneRequest/LaneGrant messages and the checks the tests share.
using Google.Protobuf;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests;

/// <summary>Builds messages with most fields set, so a round trip that drops or mangles a field is noticed.</summary>
internal static class SampleMessages
{
    public static LaneRequest Request() => new()
    {
        Flow = new Flow
        {
            Local = new Endpoint { Address = ByteString.CopyFrom(10, 0, 0, 1), Port = 40001 },
            Remote = new Endpoint { Address = ByteString.CopyFrom(192, 0, 2, 7), Port = 5201 },
            Direction = Direction.Outbound,
            Protocol = 6,
        },
        Program = new Protocol.V1.Program { Path = "/usr/bin/iperf3", Pid = 4242, Uid = 1000, Gid = 1000, Fd = 7 },
        AppSettings = new SocketSettings { Sndbuf = 212992, Congestion = "cubic", Tos = 0x20 },
        Host = new HostLimits { RmemMax = 212992, WmemMax = 212992, TcpRmemMax = 6291456, TcpWmemMax = 4194304, Privileged = true, CongestionAvailable = { "reno", "cubic", "bbr" } },
    };

    /// <summary>The grant the test handlers answer with: derived from the request so both directions are checked.</summary>
    public static LaneGrant GrantFor(LaneRequest request) => new()
    {
        LeaseId = "lease-" + request.Program.Pid,
        ExpiresUnixMs = 1_900_000_000_123,
        LaneClass = "dmz",
        RateBps = 10_000_000_000,
        RttUs = 80_000,
        BdpBytes = 100_000_000,
        SndbufBytes = 134_217_728,
        SndbufMode = BufferMode.Force,
        RcvbufBytes = 134_217_728,
        RcvbufMode = BufferMode.Set,
        Congestion = request.Host.CongestionAvailable.Contains("bbr") ? "bbr" : "cubic",
        PacingRate = 1_250_000_000,
        Dscp = 10,
        Mark = 0x42,
        NotsentLowat = 131072,
        PathId = "path-a",
        Reason = $"10 Gbit/s x 80 ms for {request.Program.Path} → 100 MB",
        Bulk = false,
    };
}
