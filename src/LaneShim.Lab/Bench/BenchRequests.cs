// BenchRequests.cs - the LaneRequests the broker benchmarks send: what an agent sends for an outbound TCP connect, one flow each.
using Google.Protobuf;
using LaneShim.Protocol.V1;

namespace LaneShim.Lab.Bench;

/// <summary>Realistic requests with distinct 5-tuples (leases are per flow).</summary>
internal static class BenchRequests
{
    /// <summary>The policy every broker benchmark grants by: one class for any destination (ttl from <paramref name="ttl"/>).</summary>
    public static string Policy(string ttl) =>
        $"# laneshim-lab bench: one lane class for every flow\nclass bench rate=1gbit rtt=20ms cc=cubic ttl={ttl}\nrule dst=any -> bench\n";

    /// <summary>Outbound flow number <paramref name="n"/>: local 10.90.x.y:port to 10.91.x.y:5201 (for in-process services, which prove no socket).</summary>
    public static LaneRequest Outbound(long n) => Outbound(n, ByteString.CopyFrom(10, 90, (byte)(n >> 16), (byte)(n >> 8)), (uint)(1024 + (n & 0xffff) % 60000), 3);

    /// <summary>
    /// Outbound flow number <paramref name="n"/> from a real socket of this process (bound to <paramref name="local"/>:<paramref name="port"/>,
    /// descriptor <paramref name="fd"/>), so a broker process proves it as it proves an agent's.
    /// </summary>
    public static LaneRequest Outbound(long n, ByteString local, uint port, int fd) => new()
    {
        Flow = new Flow
        {
            Local = new Endpoint { Address = local, Port = port },
            Remote = new Endpoint { Address = ByteString.CopyFrom(10, 91, (byte)(n >> 8), (byte)n), Port = 5201 },
            Direction = Direction.Outbound,
            Protocol = 6,
        },
        Program = new Protocol.V1.Program { Path = "/usr/bin/iperf3", Pid = (uint)(1000 + n % 30000), Uid = 1000, Gid = 1000, Fd = fd },
        AppSettings = new SocketSettings(),
        Host = new HostLimits { RmemMax = 212992, WmemMax = 212992, TcpRmemMax = 6291456, TcpWmemMax = 4194304, Privileged = false, CongestionAvailable = { "reno", "cubic" } },
    };
}
