// BrokerUnderTest.cs - a real BrokerServer on its own Unix socket and temp dir, with an audit log, for the identity tests.
using Grpc.Core;
using LaneShim.Testing;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using ProgramInfo = LaneShim.Protocol.V1.Program;
using WireHostLimits = LaneShim.Protocol.V1.HostLimits;

namespace LaneShim.Broker.Tests.Identity;

/// <summary>Starts the broker as the CLI would (proof on, identity required), in a directory others may enter.</summary>
internal sealed class BrokerUnderTest : IAsyncDisposable
{
    public const long RmemMax = 212_992;

    private BrokerUnderTest(string directory, BrokerServer server, string audit)
    {
        Directory = directory;
        Server = server;
        AuditFile = audit;
        Client = BrokerChannel.Open(server.Address);
    }

    public string Directory { get; }

    public BrokerServer Server { get; }

    public string AuditFile { get; }

    public BrokerChannel Client { get; }

    public string Socket => Server.Address.UnixPath!;

    public static async Task<BrokerUnderTest> StartAsync(string policy)
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("laneshim-ident-").FullName;
        // Other uids (the tests' nobody caller) must reach the socket; the broker decides what they get.
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        string policyFile = Path.Combine(dir, "lanes.conf");
        await File.WriteAllTextAsync(policyFile, policy);
        string audit = Path.Combine(dir, "audit.jsonl");
        var options = new BrokerOptions { PolicyFile = policyFile, AuditFile = audit };
        try
        {
            BrokerServer server = await BrokerServer.StartAsync(BrokerAddress.Unix(Path.Combine(dir, "broker.sock")), options, NullLoggerFactory.Instance, CancellationToken.None);
            return new BrokerUnderTest(dir, server, audit);
        }
        catch
        {
            System.IO.Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    /// <summary>A request for <paramref name="socket"/>'s flow to 10.9.9.9:5201, naming its descriptor.</summary>
    public static LaneRequest RequestFor(Socket socket, int? fd = null, int? localPort = null, IPAddress? localAddress = null, uint pid = 0)
    {
        var local = (IPEndPoint)socket.LocalEndPoint!;
        return Request(localAddress ?? local.Address, localPort ?? local.Port, fd ?? (int)socket.Handle, pid, Direction.Outbound, IPAddress.Parse("10.9.9.9"), 5201);
    }

    public static LaneRequest Request(IPAddress localAddress, int localPort, int fd, uint pid, Direction direction, IPAddress remote, int remotePort) => new()
    {
        Flow = new Flow
        {
            Local = new Endpoint { Address = ByteString.CopyFrom(localAddress.GetAddressBytes()), Port = (uint)localPort },
            Remote = new Endpoint { Address = ByteString.CopyFrom(remote.GetAddressBytes()), Port = (uint)remotePort },
            Direction = direction,
            Protocol = 6,
        },
        Program = new ProgramInfo { Path = "/usr/bin/iperf3", Pid = pid == 0 ? (uint)Environment.ProcessId : pid, Uid = 0, Gid = 0, Fd = fd },
        AppSettings = new SocketSettings(),
        Host = new WireHostLimits
        {
            RmemMax = RmemMax,
            WmemMax = RmemMax,
            TcpRmemMax = 6 * 1024 * 1024,
            TcpWmemMax = 4 * 1024 * 1024,
            Privileged = false,
            CongestionAvailable = { "reno", "cubic" },
        },
    };

    /// <summary>The audit lines, after the broker stopped (every queued line is written by then).</summary>
    public string[] AuditLines() => File.ReadAllLines(AuditFile);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Stops the broker but keeps the directory (to read the audit log).</summary>
    public async Task StopAsync() => await Server.DisposeAsync();
}
