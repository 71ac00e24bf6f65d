// FlowReporter.cs - sends flow reports to the broker from one background thread, off the connect path.
using System.Collections.Concurrent;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>A bounded queue of reports drained by a background thread; full means dropped, never blocking.</summary>
internal sealed class FlowReporter
{
    private const int Capacity = 1024;
    private static readonly TimeSpan ReportDeadline = TimeSpan.FromSeconds(2);
    private readonly BlockingCollection<FlowReport> _queue = new(new ConcurrentQueue<FlowReport>(), Capacity);
    private readonly LaneBrokerClient _client;
    private int _started;

    public FlowReporter(LaneBrokerClient client) => _client = client;

    /// <summary>Queues a report; drops it when the queue is full.</summary>
    public void Enqueue(FlowReport report)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            var thread = new Thread(Drain) { IsBackground = true, Name = "laneshim-report" };
            thread.Start();
        }
        if (!_queue.TryAdd(report))
        {
            AgentLog.Debug("report queue full; report dropped");
        }
    }

    private void Drain()
    {
        foreach (FlowReport report in _queue.GetConsumingEnumerable())
        {
            try
            {
                _client.ReportFlow(report, ReportDeadline);
            }
            catch (Exception e)
            {
                AgentLog.Debug($"report for lease {report.LeaseId} not delivered: {e.Message}");
            }
        }
    }
}
