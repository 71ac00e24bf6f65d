// GrantLoad.cs - the load generator: C concurrent callers asking a broker for lanes (or health checks) over its Unix socket, each as an agent would.
using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Lab.Bench;

/// <summary>
/// Each caller is a thread of its own with its own <see cref="BrokerChannel"/>, as a program's thread in connect() is
/// in an agent: it sends RequestLane for a new flow as soon as its previous grant arrives, with the blocking call the
/// agent makes (the generated client on the direct HTTP/2 transport, no thread pool), so C callers are C connections,
/// as C agents would be. With <c>emptyRpc</c> each caller sends <c>grpc.health.v1.Health/Check</c> instead: the same
/// broker process and transport doing no work, the floor a grant is compared with.
/// </summary>
internal static class GrantLoad
{
    public static GrantLoadOutcome Run(string socket, int callers, TimeSpan warmup, TimeSpan window, CancellationToken cancel, bool emptyRpc = false)
    {
        var clients = Enumerable.Range(0, callers)
            .Select(_ => BrokerChannel.Open(BrokerAddress.Unix(socket), new BrokerChannelOptions { Transport = BrokerTransport.Direct })).ToArray();
        try
        {
            long flow = (long)Environment.ProcessId << 32;
            long origin = Stopwatch.GetTimestamp();
            long start = origin + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
            long end = start + (long)(window.TotalSeconds * Stopwatch.Frequency);
            var latencies = new List<double>[callers];
            int errors = 0;
            string? firstError = null;
            var threads = new Thread[callers];
            for (int c = 0; c < callers; c++)
            {
                int caller = c;
                latencies[caller] = new List<double>(100_000);
                threads[caller] = new Thread(() =>
                {
                    BrokerChannel client = clients[caller];
                    var health = new Health.HealthClient(client.Channel);
                    var check = new HealthCheckRequest();
                    // Each caller names a real bound socket of ours, as an agent does: the broker proves it (pidfd_getfd) every time.
                    using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                    socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
                    uint port = (uint)((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
                    var local = Google.Protobuf.ByteString.CopyFrom(127, 0, 0, 1);
                    int fd = (int)socket.Handle;
                    while (!cancel.IsCancellationRequested)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        if (t0 >= end)
                        {
                            break;
                        }
                        try
                        {
                            if (emptyRpc)
                            {
                                client.Call((_, options) => health.Check(check, options), TimeSpan.FromSeconds(10));
                            }
                            else
                            {
                                LaneRequest request = BenchRequests.Outbound(Interlocked.Increment(ref flow), local, port, fd);
                                client.Call((c, options) => c.RequestLane(request, options), TimeSpan.FromSeconds(10));
                            }
                        }
                        catch (RpcException e)
                        {
                            Interlocked.Increment(ref errors);
                            Interlocked.CompareExchange(ref firstError, $"{e.StatusCode}: {e.Status.Detail}", null);
                            continue;
                        }
                        long t1 = Stopwatch.GetTimestamp();
                        if (t0 >= start && t1 <= end)
                        {
                            latencies[caller].Add((t1 - t0) * 1e6 / Stopwatch.Frequency);
                        }
                    }
                })
                { IsBackground = true, Name = $"grant-load-{caller}" };
                threads[caller].Start();
            }

            foreach (Thread thread in threads)
            {
                thread.Join();
            }

            List<double> all = latencies.SelectMany(l => l).ToList();
            if (all.Count == 0)
            {
                throw new BenchException($"no grant completed in {window.TotalSeconds:0.#} s{(firstError is null ? "" : $" (first error: {firstError})")}");
            }
            return new GrantLoadOutcome(all.Count / window.TotalSeconds, BenchStats.Median(all), BenchStats.Percentile(all, 99), all.Count, errors, firstError, Connections: callers);
        }
        finally
        {
            foreach (BrokerChannel client in clients)
            {
                client.Dispose();
            }
        }
    }
}
