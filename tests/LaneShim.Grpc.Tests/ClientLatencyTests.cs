// ClientLatencyTests.cs - how long the first call on a new client and the 100th call take over a Unix socket.
using System.Diagnostics;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class ClientLatencyTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public async Task NewClientOverUnixSocket_FirstCallFast_HundredthCallFaster(bool sync)
    {
        await using RunningHost host = await RunningHost.StartAsync("unix");
        using (var warmup = new LaneBrokerClient(host.Address))
        {
            // JIT the client and server paths in this process, so the numbers below are the connection and the call,
            // as they are in the NativeAOT agent (which has no JIT).
            await warmup.RequestLaneAsync(SampleMessages.Request(), Generous);
            GrpcAssert.OnOwnThread(() => warmup.RequestLane(SampleMessages.Request(), Generous));
        }

        LaneRequest request = SampleMessages.Request();
        using var client = new LaneBrokerClient(host.Address);
        var times = new double[100];
        if (sync)
        {
            // On a thread of its own, as the agent calls from a program's thread (the direct path, not HttpClient).
            GrpcAssert.OnOwnThread(() =>
            {
                for (int i = 0; i < times.Length; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    LaneGrant grant = client.RequestLane(request, Generous);
                    times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    Assert.AreEqual("lease-4242", grant.LeaseId);
                }
            });
        }
        else
        {
            for (int i = 0; i < times.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                LaneGrant grant = await client.RequestLaneAsync(request, Generous);
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                Assert.AreEqual("lease-4242", grant.LeaseId);
            }
        }

        double median = times.Skip(1).Order().ElementAt(49);
        TestContext.WriteLine($"{(sync ? "sync" : "async")} RequestLane over unix: first call {times[0]:0.000} ms (connect + HTTP/2 handshake), " +
            $"100th {times[99]:0.000} ms, median of 2-100 {median:0.000} ms");
        // Typically ~1 ms and ~0.1 ms; the bounds catch a stall (Nagle, a 40 ms delayed ACK, a retry) without flaking on a busy box.
        Assert.IsTrue(times[0] < 50, $"the first call on a new client took {times[0]:0.0} ms");
        Assert.IsTrue(median < 10, $"steady-state calls take {median:0.00} ms (median)");
    }
}
