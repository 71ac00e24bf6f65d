// DoctorJson.cs - the doctor's report as one JSON document: the records under Json/, written by the source-generated DoctorJsonContext.
using System.Text.Encodings.Web;
using System.Text.Json;
using LaneShim.Cli.Doctor.Json;
using LaneShim.Core;
using LaneShim.Core.Doctor;

namespace LaneShim.Cli.Doctor;

/// <summary>Writes reports and apply/revert outcomes as JSON.</summary>
internal static class DoctorJson
{
    // Relaxed escaping keeps quotes in fix commands readable; the output is never embedded in HTML.
    private static readonly DoctorJsonContext Context = new(new JsonSerializerOptions(DoctorJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>The report, with what --apply did when it ran and, when examined, the BPF lane path's readiness.</summary>
    public static void Write(Stream output, DoctorReport report, SysctlFileOutcome? applied, int exitCode, IReadOnlyList<BpfCheck>? bpf = null)
    {
        var document = new DoctorDocument(
            report.Host.KernelRelease,
            report.Host.InitialNetworkNamespace,
            exitCode,
            report.LimitsThroughput,
            new DoctorCounts(report.Count(Severity.Ok), report.Count(Severity.Warn), report.Count(Severity.LimitsThroughput)),
            report.Lanes.Select(Lane).ToArray(),
            report.Host.Paths.Select(Path).ToArray(),
            report.Findings.Select(Finding).ToArray(),
            report.Changes.Select(c => new DoctorSysctlFix(c.Key, c.Value, c.Command)).ToArray(),
            applied is null ? null : Outcome(applied))
        {
            BpfPath = bpf is null ? null : new DoctorBpfPath(bpf.All(c => c.Ok), bpf.Select(c => new DoctorBpfCheck(c.Name, c.Ok, c.Detail)).ToArray()),
        };
        JsonSerializer.Serialize(output, document, Context.DoctorDocument);
        output.WriteByte((byte)'\n');
    }

    /// <summary>What --revert did.</summary>
    public static void WriteReverted(Stream output, SysctlFileOutcome reverted, int exitCode)
    {
        JsonSerializer.Serialize(output, new DoctorRevertDocument(exitCode, Outcome(reverted)), Context.DoctorRevertDocument);
        output.WriteByte((byte)'\n');
    }

    /// <summary>"loaded", "unchanged", "read-only", "failed".</summary>
    public static string StatusText(LoadStatus status) => status switch
    {
        LoadStatus.Loaded => "loaded",
        LoadStatus.Unchanged => "unchanged",
        LoadStatus.ReadOnly => "read-only",
        _ => "failed",
    };

    private static LaneEntry Lane(LaneSummary lane) => new(
        lane.Lane.Name,
        lane.Lane.RateBps,
        Units.FormatRate(lane.Lane.RateBps),
        lane.Lane.Rtt.Rtt.Ticks / 10,
        lane.Lane.Rtt.Describe(),
        lane.Lane.Rtt.Source.ToString().ToLowerInvariant(),
        lane.BdpBytes,
        lane.Lane.DescribeBdp(),
        lane.Lane.Congestion,
        lane.TopsOutAtBps,
        lane.Limited,
        Direction(lane.Send),
        Direction(lane.Receive),
        lane.LinkBps);

    private static DoctorDirection Direction(DirectionLimit d) => new(d.Mode.ToString().ToLowerInvariant(), d.WindowBytes, d.TopsOutAtBps, d.LimitedBy);

    private static DoctorPath Path(EgressPath p) =>
        new(p.Destination, p.Device, p.Gateway, p.Source, p.Mtu, p.RouteMtu, p.TxQueueLen, p.SpeedMbps, p.RootQdisc, p.ChildQdiscs, p.Error);

    private static DoctorFinding Finding(Finding f) =>
        new(f.Id, f.Scope, f.Severity.ToText(), f.Measured, f.Needed, f.Why, f.Fix, f.Change is null ? null : new DoctorSysctl(f.Change.Key, f.Change.Value));

    private static DoctorOutcome Outcome(SysctlFileOutcome o) =>
        new(o.File, o.FileAction, o.Backup, o.Values.Select(v => new DoctorValue(v.Key, v.Before, v.Value, StatusText(v.Status), v.Message)).ToArray());
}
