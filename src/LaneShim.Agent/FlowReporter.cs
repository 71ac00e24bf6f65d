// FlowReporter.cs - sends flow reports (batched) and lease releases to the broker from the agent's service thread, off the connect and close paths.
using Grpc.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>
/// A bounded queue drained by the agent's service thread (<see cref="DrainOnce(TimeSpan)"/>); full means dropped, never blocking. Reports waiting together go
/// in one ReportFlows call (up to <see cref="MaxBatch"/>); a broker without ReportFlows gets them one by one.
/// <see cref="Flush"/> waits, within a bound, until everything queued has been sent: the agent calls it when the
/// process exits, so a program that closes and exits at once still reports its flows.
/// </summary>
internal sealed class FlowReporter
{
    /// <summary>The most reports in one call.</summary>
    public const int MaxBatch = 128;

    private const int Capacity = 1024;
    // Closes often come in runs (a mover closing its data connections, a connect loop): a report waits this long for
    // others to share its call, so a program that closes a thousand sockets costs the broker tens of calls, not a thousand.
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ReportDeadline = TimeSpan.FromSeconds(2);
    private readonly ReportQueue _queue = new(Capacity);
    private readonly BrokerChannel _client;
    private readonly object _idle = new();
    private int _unfinished; // queued or being sent
    private volatile bool _noBatchRpc;
    private volatile bool _flushing;
    private readonly object _lingering = new();
    private readonly FlowReportBatch _batch = new();
    private readonly Lock _draining = new(); // the service thread and a closing thread may both send
    private readonly List<object> _taken = new(MaxBatch);

    public FlowReporter(BrokerChannel client) => _client = client;

    /// <summary>Queues a report; drops it when the queue is full.</summary>
    public void Enqueue(FlowReport report) => Add(report, $"report for lease {report.LeaseId}");

    /// <summary>Queues a report its flow's close may still claim (<see cref="QueuedReport.TryClaim"/>); sent only if it does not.</summary>
    public void Enqueue(QueuedReport report) => Add(report, $"report for lease {report.Report.LeaseId}");

    /// <summary>Queues the release of a lease with the flow's final statistics.</summary>
    public void Enqueue(ReleaseRequest release) => Add(release, $"release of lease {release.LeaseId}");

    /// <summary>Waits up to <paramref name="bound"/> for the queue to be sent; true when it was.</summary>
    public bool Flush(TimeSpan bound)
    {
        long until = Environment.TickCount64 + (long)bound.TotalMilliseconds;
        _flushing = true; // no more lingering: the process is going
        lock (_lingering)
        {
            Monitor.PulseAll(_lingering);
        }
        lock (_idle)
        {
            while (Volatile.Read(ref _unfinished) > 0)
            {
                long left = until - Environment.TickCount64;
                if (left <= 0)
                {
                    return false;
                }
                Monitor.Wait(_idle, (int)Math.Min(left, 50));
            }
        }
        return true;
    }

    private void Add(object item, string what)
    {
        Interlocked.Increment(ref _unfinished);
        if (!_queue.TryAdd(item))
        {
            Done(1);
            AgentLog.Debug($"report queue full; {what} dropped");
        }
    }

    /// <summary>
    /// Sends what is queued: waits up to <paramref name="wait"/> for a first item, lingers for others to share its
    /// call, sends them, and returns (the service thread then does its other work).
    /// </summary>
    public void DrainOnce(TimeSpan wait) => DrainOnce(wait, linger: true, ReportDeadline);

    /// <summary>Reports queued and not yet sent.</summary>
    public int Pending => Volatile.Read(ref _unfinished);

    /// <summary>
    /// Sends one batch of what is queued now from the calling thread (a program's close() when the agent has no
    /// service thread), without lingering, within <paramref name="deadline"/>.
    /// </summary>
    public void SendNow(TimeSpan deadline) => DrainOnce(TimeSpan.Zero, linger: false, deadline);

    private void DrainOnce(TimeSpan wait, bool linger, TimeSpan deadline)
    {
        if (!linger)
        {
            // A program's close() never waits for another sender: it leaves the batch to whoever is sending.
            if (!_draining.TryEnter())
            {
                return;
            }
        }
        else
        {
            _draining.Enter();
        }
        try
        {
            DrainLocked(wait, linger, deadline);
        }
        finally
        {
            _draining.Exit();
        }
    }

    private void DrainLocked(TimeSpan wait, bool linger, TimeSpan deadline)
    {
        if (!_queue.TryTake(out object? first, (int)Math.Max(0, wait.TotalMilliseconds)))
        {
            return;
        }
        if (first is ReleaseRequest release)
        {
            Send($"release of lease {release.LeaseId}", () => _client.Call((c, o) => c.ReleaseLane(release, o), deadline));
            Done(1);
            return;
        }

        _taken.Clear();
        _taken.Add(first!);
        // Whatever else is already waiting rides along; releases go after this batch, in order.
        object? held = null;
        // Sleep through the linger once (Flush cuts it short), then take what came: one wake per batch, not per close.
        lock (_lingering)
        {
            if (linger && !_flushing)
            {
                Monitor.Wait(_lingering, Linger);
            }
        }
        while (_taken.Count < MaxBatch && _queue.TryTake(out object? next, 0))
        {
            if (next is ReleaseRequest)
            {
                held = next;
                break;
            }

            _taken.Add(next!);
        }

        // Connect reports are claimed only now, just before they go: a flow that closed during the linger has
        // already sent its own with its release (claiming at dequeue sent it 50 ms later, after the lease was gone).
        _batch.Reports.Clear();
        foreach (object item in _taken)
        {
            if (item is QueuedReport queued)
            {
                if (queued.TryClaim())
                {
                    _batch.Reports.Add(queued.Report);
                }
            }
            else
            {
                _batch.Reports.Add((FlowReport)item);
            }
        }

        if (_batch.Reports.Count > 0)
        {
            SendBatch(_batch, deadline);
        }

        Done(_taken.Count);
        if (held is ReleaseRequest r)
        {
            Send($"release of lease {r.LeaseId}", () => _client.Call((c, o) => c.ReleaseLane(r, o), deadline));
            Done(1);
        }
    }

    private void SendBatch(FlowReportBatch batch, TimeSpan deadline)
    {
        if (!_noBatchRpc)
        {
            try
            {
                _client.Call((c, o) => c.ReportFlows(batch, o), deadline);
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
            {
                _noBatchRpc = true; // an older broker: one call per report from now on
            }
            catch (Exception e)
            {
                AgentLog.Debug($"{batch.Reports.Count} reports not delivered: {e.Message}");
                return;
            }
        }
        foreach (FlowReport report in batch.Reports)
        {
            Send($"report for lease {report.LeaseId}", () => _client.Call((c, o) => c.ReportFlow(report, o), deadline));
        }
    }

    private static void Send(string what, Action send)
    {
        try
        {
            send();
        }
        catch (Exception e)
        {
            AgentLog.Debug($"{what} not delivered: {e.Message}");
        }
    }

    private void Done(int count)
    {
        if (Interlocked.Add(ref _unfinished, -count) <= 0)
        {
            lock (_idle)
            {
                Monitor.PulseAll(_idle);
            }
        }
    }
}
