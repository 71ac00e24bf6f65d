// SysctlFileOutcome.cs - what --apply or --revert did to the sysctl.d directory and the live values.
namespace LaneShim.Cli.Doctor;

/// <summary>The result of <see cref="SysctlApplier.Apply"/> or <see cref="SysctlApplier.Revert"/>.</summary>
internal sealed record SysctlFileOutcome
{
    /// <summary>The 90-laneshim.conf path.</summary>
    public required string File { get; init; }

    /// <summary>"written", "unchanged", "restored", "removed" or "none" (nothing to do).</summary>
    public required string FileAction { get; init; }

    /// <summary>The backup of the previous file, when one is kept (apply) or was restored (revert).</summary>
    public string? Backup { get; init; }

    /// <summary>Each live value set.</summary>
    public IReadOnlyList<LoadedValue> Values { get; init; } = [];

    /// <summary>True when some value could not be set.</summary>
    public bool AnyFailed => Values.Any(v => v.Status == LoadStatus.Failed);
}
