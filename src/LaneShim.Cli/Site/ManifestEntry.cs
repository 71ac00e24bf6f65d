// ManifestEntry.cs - one path a site install created or replaced, with what was there before.
namespace LaneShim.Cli.Site;

/// <summary>What was at <see cref="Path"/> before the install, and what the install put there.</summary>
internal sealed class ManifestEntry
{
    /// <summary>The target path, as the installed system sees it.</summary>
    public string Path { get; set; } = "";

    /// <summary>What was there before: absent, file, symlink or directory.</summary>
    public string Previous { get; set; } = "absent";

    /// <summary>For a previous file: the name of its byte-for-byte copy in the state directory.</summary>
    public string? Backup { get; set; }

    /// <summary>For a previous file: its permission bits.</summary>
    public int PreviousMode { get; set; }

    /// <summary>For a previous symlink: its target.</summary>
    public string? PreviousLink { get; set; }

    /// <summary>For a previous file or symlink: its owner's uid.</summary>
    public int? PreviousUid { get; set; }

    /// <summary>For a previous file or symlink: its group's gid.</summary>
    public int? PreviousGid { get; set; }

    /// <summary>What the install put there: file, symlink or directory.</summary>
    public string Installed { get; set; } = "file";

    /// <summary>SHA-256 of the installed bytes (or link target), to notice later edits that uninstall must not throw away.</summary>
    public string? InstalledHash { get; set; }
}
