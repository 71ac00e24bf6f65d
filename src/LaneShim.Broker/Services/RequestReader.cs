// RequestReader.cs - checks incoming messages and turns them into Core's types, or answers INVALID_ARGUMENT saying what is wrong.
using System.Net;
using LaneShim.Core;
using Grpc.Core;
using LaneShim.Broker.Identity;
using LaneShim.Protocol.V1;
using CoreHostLimits = LaneShim.Core.HostLimits;
using ProgramInfo = LaneShim.Protocol.V1.Program;
using WireHostLimits = LaneShim.Protocol.V1.HostLimits;

namespace LaneShim.Broker.Services;

/// <summary>Validation and conversion of LaneBroker request messages.</summary>
internal static class RequestReader
{
    private const uint IpProtoTcp = 6;
    private const uint IpProtoMptcp = 262;

    /// <summary>
    /// The policy facts of a flow. When the kernel vouches for the caller (Unix socket, SO_PEERCRED), its uid and gid
    /// replace the ones the request claims.
    /// </summary>
    public static FlowFacts ReadFlow(Flow? flow, ProgramInfo? program, PeerCredentials? credentials)
    {
        if (flow is null)
        {
            throw Invalid("flow is required");
        }

        FlowDirection direction = flow.Direction switch
        {
            Direction.Outbound => FlowDirection.Outbound,
            Direction.Inbound => FlowDirection.Inbound,
            Direction.Listen => FlowDirection.Listen,
            _ => throw Invalid($"flow.direction is required (OUTBOUND, INBOUND or LISTEN), got {(int)flow.Direction}"),
        };

        if (flow.Protocol is not (0 or IpProtoTcp or IpProtoMptcp))
        {
            throw Invalid($"flow.protocol {flow.Protocol} is neither TCP (6) nor MPTCP (262)");
        }

        bool needsPeer = direction != FlowDirection.Listen;
        IPAddress? remote = ReadAddress(flow.Remote, "flow.remote", needsPeer ? direction : null);
        int remotePort = ReadPort(flow.Remote, "flow.remote");
        ReadAddress(flow.Local, "flow.local", null);
        int localPort = ReadPort(flow.Local, "flow.local");
        if (needsPeer && remotePort == 0)
        {
            throw Invalid($"flow.remote.port is required for {Word(direction)} flows");
        }

        if (program is null)
        {
            throw Invalid("program is required");
        }

        uint uid = credentials?.Uid ?? program.Uid;
        uint gid = credentials?.Gid ?? program.Gid;
        return new FlowFacts(remote, remotePort, localPort, direction, program.Path, uid, gid);
    }

    /// <summary>The endpoint when it has a well-formed address (any port, including 0), else null; never throws.</summary>
    public static IPEndPoint? TryEndpoint(Endpoint? endpoint) =>
        endpoint is { Address.Length: 4 or 16 } e && e.Port <= 65535 ? new IPEndPoint(new IPAddress(e.Address.Span), (int)e.Port) : null;

    /// <summary>
    /// An endpoint's address: null when absent or empty (an error when <paramref name="requiredFor"/> is set);
    /// INVALID_ARGUMENT when it is neither 4 nor 16 bytes.
    /// </summary>
    public static IPAddress? ReadAddress(Endpoint? endpoint, string field, FlowDirection? requiredFor)
    {
        int length = endpoint?.Address.Length ?? 0;
        if (length == 0)
        {
            return requiredFor is FlowDirection d ? throw Invalid($"{field}.address is required for {Word(d)} flows") : null;
        }

        if (length is not (4 or 16))
        {
            throw Invalid($"{field}.address must be 4 (IPv4) or 16 (IPv6) bytes, got {length}");
        }

        return new IPAddress(endpoint!.Address.Span);
    }

    /// <summary>An endpoint's port (0 when absent); INVALID_ARGUMENT above 65535.</summary>
    public static int ReadPort(Endpoint? endpoint, string field)
    {
        uint port = endpoint?.Port ?? 0;
        return port <= 65535 ? (int)port : throw Invalid($"{field}.port {port} is out of range (0-65535)");
    }

    /// <summary>The buffers the program set itself.</summary>
    public static AppBuffers ReadAppBuffers(SocketSettings? settings)
    {
        if (settings is null)
        {
            return AppBuffers.None;
        }

        return new AppBuffers(
            settings.HasSndbuf ? CheckBuffer(settings.Sndbuf, "app_settings.sndbuf") : null,
            settings.HasRcvbuf ? CheckBuffer(settings.Rcvbuf, "app_settings.rcvbuf") : null);
    }

    /// <summary>The host's limits, unknown ones (0) taken from a stock Linux host; <paramref name="reported"/> is false when the message had none.</summary>
    public static CoreHostLimits ReadHost(WireHostLimits? host, out bool reported)
    {
        reported = host is not null;
        if (host is null)
        {
            return CoreHostLimits.LinuxDefaults;
        }

        CheckLimit(host.RmemMax, "host.rmem_max");
        CheckLimit(host.WmemMax, "host.wmem_max");
        CheckLimit(host.TcpRmemMax, "host.tcp_rmem_max");
        CheckLimit(host.TcpWmemMax, "host.tcp_wmem_max");
        return new CoreHostLimits(host.RmemMax, host.WmemMax, host.TcpRmemMax, host.TcpWmemMax, host.Privileged)
        {
            CongestionAvailable = host.CongestionAvailable.ToArray(),
        }.WithUnknownFrom(CoreHostLimits.LinuxDefaults);
    }

    /// <summary>A lease id field; INVALID_ARGUMENT when empty.</summary>
    public static string ReadLeaseId(string leaseId) =>
        string.IsNullOrEmpty(leaseId) ? throw Invalid("lease_id is required") : leaseId;

    /// <summary>An INVALID_ARGUMENT status with <paramref name="detail"/>.</summary>
    public static RpcException Invalid(string detail) => new(new Status(StatusCode.InvalidArgument, detail));

    private static long CheckBuffer(long value, string field) =>
        value is >= 0 and <= int.MaxValue ? value : throw Invalid($"{field} {value} is out of range (0-{int.MaxValue})");

    private static void CheckLimit(long value, string field)
    {
        if (value < 0)
        {
            throw Invalid($"{field} {value} must not be negative");
        }
    }

    private static string Word(FlowDirection direction) => direction switch
    {
        FlowDirection.Outbound => "outbound",
        FlowDirection.Inbound => "inbound",
        _ => "listening",
    };
}
