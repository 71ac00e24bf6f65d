// LoadStatus.cs - what happened to one sysctl when --apply or --revert tried to set it live.
namespace LaneShim.Cli.Doctor;

/// <summary>The outcome of setting one live sysctl value.</summary>
internal enum LoadStatus
{
    /// <summary>Written to /proc/sys.</summary>
    Loaded,

    /// <summary>Already had the value; nothing written.</summary>
    Unchanged,

    /// <summary>Read-only in this network namespace (a global sysctl): in the file, not live.</summary>
    ReadOnly,

    /// <summary>The kernel refused the value; the message says why.</summary>
    Failed,
}
