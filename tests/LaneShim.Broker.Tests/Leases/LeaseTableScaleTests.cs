// LeaseTableScaleTests.cs - grant latency stays flat as active leases grow (memory and SQLite), via the preload the benchmarks use.
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Storage;
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Leases;

[TestClass]
public sealed class LeaseTableScaleTests
{
    private static readonly LinkDemand Link = new("class:bench", "class bench", ulong.MaxValue / 2);

    public TestContext TestContext { get; set; } = null!;

    // LANESHIM_SCALE_LEASES raises the large size (the benchmark uses 1,000,000).
    private static int LargeSize => int.TryParse(Environment.GetEnvironmentVariable("LANESHIM_SCALE_LEASES"), out int n) && n > 10_000 ? n : 200_000;

    [TestMethod]
    [DataRow("memory")]
    [DataRow("sqlite")]
    public async Task GrantP50_IsFlatFrom10kToManyActiveLeases(string kind)
    {
        string dir = Directory.CreateTempSubdirectory($"laneshim-scale-{Environment.ProcessId}-").FullName;
        try
        {
            ILeaseStore store = kind == "memory" ? new MemoryLeaseStore() : SqliteLeaseStore.Open(Path.Combine(dir, "broker.db"));
            await using (store)
            {
                var table = new LeaseTable(TimeProvider.System, LargeSize + 100_000, store);
                var sw = Stopwatch.StartNew();
                await table.PreloadAsync(10_000, TimeSpan.FromHours(1), CancellationToken.None);
                double small = await P50Async(table);
                await table.PreloadAsync(LargeSize - 10_000, TimeSpan.FromHours(1), CancellationToken.None);
                TimeSpan preload = sw.Elapsed;
                double large = await P50Async(table);
                TestContext.WriteLine($"{kind}: grant p50 {small:0.0} us with 10,000 active leases, {large:0.0} us with {table.Count:N0} (preload {preload.TotalSeconds:0.0} s)");
                Assert.IsLessThan(small * 2 + 20, large, $"{kind}: p50 grew from {small:0.0} us to {large:0.0} us");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<double> P50Async(LeaseTable table)
    {
        var samples = new double[2000];
        var program = new ProgramInfo { Path = "/usr/bin/iperf3" };
        var grant = new LaneGrant { LaneClass = "bench", RateBps = 1_000_000 };
        for (int i = 0; i < samples.Length; i++)
        {
            var flow = new Flow
            {
                Direction = Direction.Outbound,
                Protocol = 6,
                Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.1.0.1").GetAddressBytes()), Port = (uint)(1024 + i) },
                Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.1.0.2").GetAddressBytes()), Port = 5201 },
            };
            long start = Stopwatch.GetTimestamp();
            LeaseGrantResult result = await table.TryGrantAsync(flow, program, grant, TimeSpan.FromHours(1), [Link], CancellationToken.None);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            Assert.IsNotNull(result.Entry);
        }
        Array.Sort(samples);
        return samples[samples.Length / 2];
    }
}
