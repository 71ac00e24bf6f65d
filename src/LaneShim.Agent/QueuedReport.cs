// QueuedReport.cs - a connect report waiting in the reporter's queue, which the flow's close may still take back.
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>
/// A post-connect report in the queue. Whoever claims it first wins: the reporter thread to send it, or the close of
/// a per-flow lane to fold it into its release (a short flow then costs the broker one call, not a report that would
/// arrive after the lease is gone).
/// </summary>
internal sealed class QueuedReport(FlowReport report)
{
    private int _claimed;

    public FlowReport Report { get; } = report;

    /// <summary>True for the first caller only.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;
}
