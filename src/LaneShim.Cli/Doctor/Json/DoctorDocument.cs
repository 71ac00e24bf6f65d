// DoctorDocument.cs - `laneshim doctor --json`: the report, its counts, lanes, egress paths, findings and fixes, and what --apply did.
using System.Text.Json.Serialization;

namespace LaneShim.Cli.Doctor.Json;

/// <summary>The whole report as one JSON document (<see cref="DoctorJsonContext"/>).</summary>
internal sealed record DoctorDocument(
    string Kernel,
    bool? InitialNetworkNamespace,
    int ExitCode,
    bool LimitsThroughput,
    DoctorCounts Counts,
    IReadOnlyList<LaneEntry> Lanes,
    IReadOnlyList<DoctorPath> Egress,
    IReadOnlyList<DoctorFinding> Findings,
    IReadOnlyList<DoctorSysctlFix> SysctlFixes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DoctorOutcome? Applied)
{
    /// <summary>Whether this host can run the kernel (BPF) lane path, and what is missing; absent when not examined.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DoctorBpfPath? BpfPath { get; init; }
}
