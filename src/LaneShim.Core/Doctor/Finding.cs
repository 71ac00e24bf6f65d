// Finding.cs - one thing the doctor checked: what it measured, what the lane needs, why, and the fix.
namespace LaneShim.Core.Doctor;

/// <summary>The result of one check.</summary>
public sealed record Finding
{
    /// <summary>The check: a sysctl name (net.core.wmem_max) or a short name (congestion-control, pacing, mtu).</summary>
    public required string Id { get; init; }

    /// <summary>What the check is about: "lane dmz", "host" or an interface name.</summary>
    public required string Scope { get; init; }

    /// <summary>How much it matters.</summary>
    public required Severity Severity { get; init; }

    /// <summary>The value found, as the host reports it ("4096 16384 1048576", "noqueue"), or "unknown".</summary>
    public required string Measured { get; init; }

    /// <summary>The value the lane needs, in the same form.</summary>
    public required string Needed { get; init; }

    /// <summary>The reasoning in words, with the arithmetic.</summary>
    public required string Why { get; init; }

    /// <summary>The exact command that fixes it; null when nothing on this host can.</summary>
    public string? Fix { get; init; }

    /// <summary>The sysctl assignment behind <see cref="Fix"/>, when it is one: what `--apply` writes.</summary>
    public SysctlChange? Change { get; init; }
}
