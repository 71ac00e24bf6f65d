// DirectClientPeerTests.cs - the direct client against real HTTP/2 stacks: Kestrel under 16 threads, and python3-grpcio's HPACK over 200 calls.
using Grpc.Core;
using System.Text.Json;
using Google.Protobuf;
using LaneShim.Protocol.V1;
using LaneShim.Testing;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class DirectClientPeerTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task Calls_SixteenThreadsOnKestrel_AllSucceedAndPoolKeepsAtMostFourIdle(string transport)
    {
        const int threads = 16;
        const int callsPerThread = 200;
        await using RunningHost host = await RunningHost.StartAsync(transport);
        using BrokerChannel client = host.Client();
        LaneGrant expected = DirectCalls.Grant;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(threads);
        int succeeded = 0;

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < callsPerThread; i++)
            {
                try
                {
                    LaneGrant grant = client.RequestLane(SampleMessages.Request(), Generous);
                    if (grant.Equals(expected))
                    {
                        Interlocked.Increment(ref succeeded);
                    }
                    else
                    {
                        failures.Enqueue($"thread {t} call {i}: wrong grant {grant}");
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue($"thread {t} call {i}: {e.GetType().Name}: {e.Message}");
                }
            }
        })
        { IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());
        foreach (Thread worker in workers)
        {
            Assert.IsTrue(worker.Join(TimeSpan.FromSeconds(120)), "a worker thread did not finish in 120 s");
        }

        Assert.AreEqual(0, failures.Count, $"{failures.Count} calls failed, e.g.:\n" + string.Join("\n", failures.Take(10)));
        Assert.AreEqual(threads * callsPerThread, succeeded);
        Assert.AreEqual(BrokerTransport.Direct, client.Transport, "the client should have taken the direct path");
        int idle = client.IdleConnections;
        Assert.IsTrue(idle is >= 1 and <= 4, $"{idle} idle connections after the burst; the pool keeps 1 to 4");
    }

    [TestMethod]
    public void Calls_TwoHundredOnPythonGrpcio_OkAndErrorsWithMetadataAllCorrect()
    {
        // grpcio's HPACK encoder Huffman-codes and indexes what it sends (content-type, grpc-status, our trailer), so
        // answers late in the run are mostly dynamic-table references: any drift in the client's table shows here.
        PythonGrpcPeer.RequireGrpcio();
        const string why = "lane 'dmz' has 0 of 1000 Mbit/s free → 100% ✓";
        using var dir = new TestDirectory();
        LaneGrant expected = DirectCalls.Grant;
        var json = new JsonFormatter(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));
        (BackgroundProcess server, BrokerAddress address) = PythonGrpcPeer.StartServer("unix:" + dir.File("py.sock"),
            "RequestLane=reply:" + json.Format(expected),
            "RenewLane=abort:RESOURCE_EXHAUSTED:laneshim-offer-bps=200000000;laneshim-lane=dmz|" + why);
        using (server)
        using (var client = DirectCalls.Open(address))
        {
            GrpcAssert.OnOwnThread(() =>
            {
                for (int i = 0; i < 200; i++)
                {
                    if (i % 2 == 0)
                    {
                        Assert.AreEqual(expected, client.RequestLane(SampleMessages.Request(), Generous), $"call {i}");
                        continue;
                    }

                    try
                    {
                        client.RenewLane(new RenewRequest { LeaseId = "l-" + i }, Generous);
                        Assert.Fail($"call {i} succeeded; python aborts RenewLane");
                    }
                    catch (RpcException e)
                    {
                        Assert.AreEqual(StatusCode.ResourceExhausted, e.StatusCode, $"call {i}: {e.Status.Detail}");
                        Assert.AreEqual(why, e.Status.Detail, $"call {i}");
                        Assert.AreEqual("200000000", e.Trailers.GetValue("laneshim-offer-bps"), $"call {i}: trailer");
                        Assert.AreEqual("dmz", e.Trailers.GetValue("laneshim-lane"), $"call {i}: trailer");
                    }
                }
            });

            Assert.AreEqual(1, client.IdleConnections, "200 sequential calls should share one connection");
            string[] requests = PythonGrpcPeer.Requests(server, 200);
            Assert.AreEqual(200, requests.Length);
            using JsonDocument last = JsonDocument.Parse(requests[^1]);
            Assert.AreEqual("l-199", last.RootElement.GetProperty("request").GetProperty("lease_id").GetString());
        }
    }
}
