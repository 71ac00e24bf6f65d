// GrantLoad.cs - the load generator: C concurrent callers asking a broker for lanes over its Unix socket, spread over several HTTP/2 connections.
using System.Diagnostics;
using LaneShim.Grpc;

namespace LaneShim.Cli.Bench;

/// <summary>
/// Each caller sends RequestLane for a new flow as soon as its previous grant arrives. One
/// <see cref="LaneBrokerClient"/> keeps one HTTP/2 connection (multiplexed streams), so callers are spread over up to
/// <see cref="MaxConnections"/> clients, as that many agents in as many processes would be.
/// </summary>
internal static class GrantLoad
{
    public const int MaxConnections = 8;
    private const int CallersPerConnection = 8;

    public static GrantLoadOutcome Run(string socket, int callers, TimeSpan warmup, TimeSpan window, CancellationToken cancel)
    {
        int connections = Math.Clamp((callers + CallersPerConnection - 1) / CallersPerConnection, 1, MaxConnections);
        var clients = Enumerable.Range(0, connections).Select(_ => new LaneBrokerClient(BrokerAddress.Unix(socket))).ToArray();
        try
        {
            long flow = (long)Environment.ProcessId << 32;
            long origin = Stopwatch.GetTimestamp();
            long start = origin + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
            long end = start + (long)(window.TotalSeconds * Stopwatch.Frequency);
            var latencies = new List<double>[callers];
            int errors = 0;
            string? firstError = null;
            Task[] tasks = new Task[callers];
            for (int c = 0; c < callers; c++)
            {
                int caller = c;
                latencies[caller] = new List<double>(100_000);
                tasks[caller] = Task.Run(async () =>
                {
                    LaneBrokerClient client = clients[caller % connections];
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
                            await client.RequestLaneAsync(BenchRequests.Outbound(Interlocked.Increment(ref flow), local, port, fd), TimeSpan.FromSeconds(10), cancel).ConfigureAwait(false);
                        }
                        catch (GrpcException e)
                        {
                            Interlocked.Increment(ref errors);
                            Interlocked.CompareExchange(ref firstError, $"{e.StatusCode}: {e.Message}", null);
                            continue;
                        }
                        long t1 = Stopwatch.GetTimestamp();
                        if (t0 >= start && t1 <= end)
                        {
                            latencies[caller].Add((t1 - t0) * 1e6 / Stopwatch.Frequency);
                        }
                    }
                }, cancel);
            }
            Task.WaitAll(tasks, cancel);
            List<double> all = latencies.SelectMany(l => l).ToList();
            if (all.Count == 0)
            {
                throw new BenchException($"no grant completed in {window.TotalSeconds:0.#} s{(firstError is null ? "" : $" (first error: {firstError})")}");
            }
            return new GrantLoadOutcome(all.Count / window.TotalSeconds, BenchStats.Median(all), BenchStats.Percentile(all, 99), all.Count, errors, firstError, connections);
        }
        finally
        {
            foreach (LaneBrokerClient client in clients)
            {
                client.Dispose();
            }
        }
    }
}
