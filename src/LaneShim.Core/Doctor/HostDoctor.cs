// HostDoctor.cs - runs every check for a set of lanes against one host snapshot; pure, so tests feed it snapshots.
namespace LaneShim.Core.Doctor;

/// <summary>The entry point of `laneshim doctor`'s judgement.</summary>
public static class HostDoctor
{
    /// <summary>
    /// Judges <paramref name="host"/> for <paramref name="lanes"/>: per lane the buffer and congestion-control checks,
    /// then the host-wide checks, then each egress path and interface. Fixes of findings that are not ok are merged
    /// into <see cref="DoctorReport.Changes"/>.
    /// </summary>
    public static DoctorReport Examine(IReadOnlyList<DoctorLane> lanes, HostSnapshot host)
    {
        ArgumentNullException.ThrowIfNull(lanes);
        ArgumentNullException.ThrowIfNull(host);
        var findings = new List<Finding>();
        var summaries = new List<LaneSummary>();
        ulong? link = EgressChecks.SlowestLinkBps(host);
        foreach (DoctorLane lane in lanes)
        {
            (IReadOnlyList<Finding> buffers, DirectionLimit send, DirectionLimit receive) = BufferChecks.Check(lane, host);
            findings.AddRange(buffers);
            findings.Add(CongestionChecks.Check(lane, host));
            summaries.Add(new LaneSummary
            {
                Lane = lane,
                BdpBytes = lane.BdpBytes,
                Send = send,
                Receive = receive,
                LinkBps = link < lane.RateBps ? link : null,
            });
        }

        findings.AddRange(HostChecks.Check(lanes, host));
        findings.AddRange(EgressChecks.Check(lanes, host));
        IReadOnlyList<SysctlChange> changes = SysctlChanges.Merge(
            findings.Where(f => f.Severity != Severity.Ok && f.Change is not null).Select(f => f.Change!));
        return new DoctorReport { Host = host, Lanes = summaries, Findings = findings, Changes = changes };
    }
}
