// AgentRuntime.Close.cs - a lane's last descriptor closing, and the process exiting: final statistics, releases, the report queue.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using LaneShim.Agent.Abi;
using LaneShim.Agent.Native;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

internal sealed unsafe partial class AgentRuntime
{
    /// <summary>
    /// The last descriptor of a lane socket is closing: its final TCP_INFO goes to the broker, and a lease that
    /// was this flow's alone is released (a cached lease stays for the next flows to the same destination).
    /// </summary>
    public void Closed(int fd)
    {
        _pending.TryRemove(fd, out _);
        if (!_open.TryRemove(Libc.Cookie(fd), out OpenLane? lane))
        {
            return;
        }
        _renewer.Untrack(lane.LeaseId);
        FlowStats stats = TcpInfoReader.Read(fd) ?? new FlowStats();
        stats.DurationMs = (ulong)Stopwatch.GetElapsedTime(lane.Started).TotalMilliseconds;
        if (lane.PerFlow)
        {
            // Synchronous, bounded by the deadline: programs often close and exit at once, and a queued release
            // would die with the process, leaving the path steered until the lease expires.
            try
            {
                var release = new ReleaseRequest { LeaseId = lane.LeaseId, Stats = stats };
                if (lane.ConnectReport is { } queued && queued.TryClaim())
                {
                    release.ConnectReport = queued.Report;
                }
                _client.Call((c, o) => c.ReleaseLane(release, o), _deadline);
            }
            catch (RpcException e)
            {
                AgentLog.Debug($"release of lease {lane.LeaseId} failed ({e.Message}); it ends at its expiry");
            }
        }
        else
        {
            _reporter.Enqueue(ClosedReport(fd, lane.LeaseId, stats));
            if (!Volatile.Read(ref _serving) && _reporter.Pending >= FlowReporter.MaxBatch / 2)
            {
                // No service thread (the broker keeps this program's leases alive): the closing thread sends a batch.
                _reporter.SendNow(_deadline);
            }
        }
    }

    /// <summary>
    /// The process is exiting (the shim's atexit handler): sockets still open will be closed by the kernel without a
    /// close() the shim sees, so their releases are queued now, and the queue gets <paramref name="bound"/> to drain.
    /// </summary>
    public void Exiting(TimeSpan bound)
    {
        AgentLog.Debug($"process exiting: {_open.Count} lanes open; flushing reports for up to {bound.TotalMilliseconds} ms");
        foreach ((ulong cookie, OpenLane lane) in _open)
        {
            if (!_open.TryRemove(cookie, out _))
            {
                continue;
            }
            _renewer.Untrack(lane.LeaseId);
            if (lane.PerFlow)
            {
                _reporter.Enqueue(new ReleaseRequest { LeaseId = lane.LeaseId }); // no descriptor here to read TCP_INFO from
            }
        }
        if (!Volatile.Read(ref _serving))
        {
            // No service thread: the exiting thread sends what is queued, batch by batch, within the bound.
            long started = Stopwatch.GetTimestamp();
            while (_reporter.Pending > 0 && Stopwatch.GetElapsedTime(started) is var spent && spent < bound)
            {
                _reporter.SendNow(bound - spent);
            }
            return;
        }
        _reporter.Flush(bound);
    }
}
