// BrokerServerStateTests.cs - an in-process broker on a SQLite file (the benchmarks' way in): 64 gRPC clients, then a restart.
using Grpc.Core;
using LaneShim.Testing;
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Storage;

[TestClass]
public sealed class BrokerServerStateTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task SixtyFourClients_OverGrpc_GrantDurably_AndARestartServesTheSameLeases()
    {
        string dir = Directory.CreateTempSubdirectory($"laneshim-bss-{Environment.ProcessId}-").FullName;
        try
        {
            var options = new BrokerOptions { ProveSockets = false /* made-up flows */, RateBps = 1_000_000_000, Ttl = TimeSpan.FromMinutes(10), State = Environment.GetEnvironmentVariable("LANESHIM_TEST_STATE") ?? Path.Combine(dir, "broker.db"), MaxLeases = 100_000 };
            var listen = BrokerAddress.Parse($"unix:{Path.Combine(dir, "broker.sock")}");
            const int Clients = 64, PerClient = 150;
            var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
            double perSecond;
            await using (BrokerServer server = await BrokerServer.StartAsync(listen, options, NullLoggerFactory.Instance, CancellationToken.None))
            {
                await server.Service.Leases.PreloadAsync(5000, TimeSpan.FromMinutes(10), CancellationToken.None);
                var sw = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
                {
                    using var client = BrokerChannel.Open(listen);
                    for (int i = 0; i < PerClient; i++)
                    {
                        LaneGrant grant = await client.RequestLaneAsync(Request(c * PerClient + i), TimeSpan.FromSeconds(30));
                        ids.Add(grant.LeaseId);
                    }
                })));
                perSecond = Clients * PerClient / sw.Elapsed.TotalSeconds;
            }
            TestContext.WriteLine($"{Clients * PerClient} grants over gRPC (unix socket) by {Clients} clients with 5,000 preloaded leases: {perSecond:0} grants/s wall, "
                + $"load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

            await using (BrokerServer again = await BrokerServer.StartAsync(listen, options, NullLoggerFactory.Instance, CancellationToken.None))
            {
                // (ListLeases of 15,000 leases is larger than one gRPC message may be: count in-process.)
                Assert.AreEqual(5000 + Clients * PerClient, again.Service.Leases.Count);
                Assert.IsTrue(ids.All(id => again.Service.Leases.Find(id) is not null), "a granted lease is missing after the restart");
                using var client = BrokerChannel.Open(listen);
                string any = ids.First();
                Assert.AreEqual(any, (await client.RenewLaneAsync(new RenewRequest { LeaseId = any }, TimeSpan.FromSeconds(5))).LeaseId);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static LaneRequest Request(int n) => new()
    {
        Flow = new Flow
        {
            Direction = Direction.Outbound,
            Protocol = 6,
            Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.3.0.1").GetAddressBytes()), Port = (uint)(1024 + n % 60000) },
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.3.0.2").GetAddressBytes()), Port = 5201 },
        },
        Program = new ProgramInfo { Path = "/usr/bin/iperf3", Pid = 1 },
        Host = new LaneShim.Protocol.V1.HostLimits { RmemMax = 212992, WmemMax = 212992, TcpRmemMax = 6291456, TcpWmemMax = 4194304 },
    };
}
