// DoctorReport.cs - everything one doctor run found: lane headlines, egress paths, findings, the fixes.
namespace LaneShim.Core.Doctor;

/// <summary>The result of <see cref="HostDoctor.Examine"/>.</summary>
public sealed record DoctorReport
{
    /// <summary>The host that was examined.</summary>
    public required HostSnapshot Host { get; init; }

    /// <summary>One headline per lane, in the order asked.</summary>
    public required IReadOnlyList<LaneSummary> Lanes { get; init; }

    /// <summary>Every finding: per lane, then the host, then each egress interface.</summary>
    public required IReadOnlyList<Finding> Findings { get; init; }

    /// <summary>The sysctl fixes of every finding that is not ok, merged per key (what `--apply` sets).</summary>
    public required IReadOnlyList<SysctlChange> Changes { get; init; }

    /// <summary>True when some finding limits throughput: the exit code is 1.</summary>
    public bool LimitsThroughput => Findings.Any(f => f.Severity == Severity.LimitsThroughput);

    /// <summary>How many findings have <paramref name="severity"/>.</summary>
    public int Count(Severity severity) => Findings.Count(f => f.Severity == severity);
}
