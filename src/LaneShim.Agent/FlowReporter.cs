// FlowReporter.cs - sends flow reports and lease releases to the broker from one background thread, off the connect and close paths.
using System.Collections.Concurrent;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>A bounded queue of reports drained by a background thread; full means dropped, never blocking.</summary>
internal sealed class FlowReporter
{
    private const int Capacity = 1024;
    private static readonly TimeSpan ReportDeadline = TimeSpan.FromSeconds(2);
    private readonly BlockingCollection<(string What, Action<LaneBrokerClient> Send)> _queue = new(new ConcurrentQueue<(string, Action<LaneBrokerClient>)>(), Capacity);
    private readonly LaneBrokerClient _client;
    private int _started;

    public FlowReporter(LaneBrokerClient client) => _client = client;

    /// <summary>Queues a report; drops it when the queue is full.</summary>
    public void Enqueue(FlowReport report) =>
        Enqueue($"report for lease {report.LeaseId}", c => c.ReportFlow(report, ReportDeadline));

    /// <summary>Queues the release of a lease with the flow's final statistics.</summary>
    public void Enqueue(ReleaseRequest release) =>
        Enqueue($"release of lease {release.LeaseId}", c => c.ReleaseLane(release, ReportDeadline));

    private void Enqueue(string what, Action<LaneBrokerClient> send)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            var thread = new Thread(Drain) { IsBackground = true, Name = "laneshim-report" };
            thread.Start();
        }
        if (!_queue.TryAdd((what, send)))
        {
            AgentLog.Debug($"report queue full; {what} dropped");
        }
    }

    private void Drain()
    {
        foreach ((string what, Action<LaneBrokerClient> send) in _queue.GetConsumingEnumerable())
        {
            try
            {
                send(_client);
            }
            catch (Exception e)
            {
                AgentLog.Debug($"{what} not delivered: {e.Message}");
            }
        }
    }
}
