// InstallJournal.cs - every write of a site install goes through here: first the previous state into the manifest, then the change.
namespace LaneShim.Cli.Site;

/// <summary>
/// Records what is at a path (bytes, mode, link or absence) the first time the install touches it, saves the manifest,
/// and only then replaces the path. A reinstall keeps the first record, so uninstall still goes back to the state
/// before LaneShim was ever installed.
/// </summary>
internal sealed class InstallJournal
{
    private readonly SiteLayout _layout;
    private readonly string _manifestPath;

    public InstallJournal(SiteLayout layout, InstallManifest manifest)
    {
        _layout = layout;
        Manifest = manifest;
        _manifestPath = layout.Host(SiteLayout.Manifest);
        string stateDir = layout.Host(SiteLayout.StateDir);
        if (!Directory.Exists(stateDir))
        {
            foreach (string dir in MissingDirectories(SiteLayout.StateDir))
            {
                Directory.CreateDirectory(layout.Host(dir));
                manifest.StateDirectories.Add(dir);
            }
            File.SetUnixFileMode(stateDir, (UnixFileMode)0b111_000_000);
        }
        manifest.Save(_manifestPath);
    }

    /// <summary>The record being kept.</summary>
    public InstallManifest Manifest { get; }

    /// <summary>Creates <paramref name="target"/> and its missing parents, recording each one created.</summary>
    public void EnsureDirectory(string target)
    {
        foreach (string dir in MissingDirectories(target))
        {
            Manifest.Entries.Add(new ManifestEntry { Path = dir, Previous = "absent", Installed = "directory" });
            Manifest.Save(_manifestPath);
            Directory.CreateDirectory(_layout.Host(dir));
        }
    }

    /// <summary>Replaces the file at <paramref name="target"/> (atomically) after recording what was there.</summary>
    public void WriteFile(string target, byte[] bytes, UnixFileMode mode)
    {
        EnsureDirectory(Path.GetDirectoryName(target)!);
        ManifestEntry entry = Record(target, "file");
        entry.InstalledHash = AtomicFile.Hash(bytes);
        Manifest.Save(_manifestPath);
        AtomicFile.Write(_layout.Host(target), bytes, mode);
    }

    /// <summary>Writes the file only if nothing is there yet (a site's own config is never replaced); true if written.</summary>
    public bool WriteIfAbsent(string target, byte[] bytes, UnixFileMode mode)
    {
        string host = _layout.Host(target);
        if (Manifest.Find(target) is null && (File.Exists(host) || Directory.Exists(host) || new FileInfo(host).LinkTarget is not null))
        {
            return false;
        }
        if (Manifest.Find(target) is { } ours && AtomicFile.Hash(host) != ours.InstalledHash)
        {
            return false; // ours, but edited since: the edit stays
        }
        WriteFile(target, bytes, mode);
        return true;
    }

    /// <summary>Points <paramref name="target"/> at <paramref name="linkTarget"/> after recording what was there.</summary>
    public void WriteSymlink(string target, string linkTarget)
    {
        EnsureDirectory(Path.GetDirectoryName(target)!);
        ManifestEntry entry = Record(target, "symlink");
        entry.InstalledHash = AtomicFile.Hash(System.Text.Encoding.UTF8.GetBytes(linkTarget));
        Manifest.Save(_manifestPath);
        AtomicFile.Symlink(_layout.Host(target), linkTarget);
    }

    private ManifestEntry Record(string target, string installed)
    {
        if (Manifest.Find(target) is { } known)
        {
            known.Installed = installed;
            return known;
        }
        string host = _layout.Host(target);
        var entry = new ManifestEntry { Path = target, Installed = installed };
        var info = new FileInfo(host);
        if (info.LinkTarget is { } link)
        {
            entry.Previous = "symlink";
            entry.PreviousLink = link;
        }
        else if (info.Exists)
        {
            entry.Previous = "file";
            entry.PreviousMode = (int)File.GetUnixFileMode(host);
            entry.Backup = $"backup-{Manifest.Entries.Count:D4}";
            AtomicFile.Write(Path.Combine(_layout.Host(SiteLayout.StateDir), entry.Backup), File.ReadAllBytes(host), (UnixFileMode)0b110_000_000);
        }
        else if (Directory.Exists(host))
        {
            throw new SiteException($"{host} is a directory; LaneShim installs a {installed} there. Move it away first.");
        }
        if (entry.Previous != "absent" && FileOwner.Get(host) is { } owner)
        {
            (entry.PreviousUid, entry.PreviousGid) = owner;
        }
        Manifest.Entries.Add(entry);
        return entry;
    }

    /// <summary>The missing directories from the top down, ending with <paramref name="target"/> itself.</summary>
    private IEnumerable<string> MissingDirectories(string target)
    {
        var missing = new Stack<string>();
        for (string? dir = target; dir is not null && dir != "/" && !Directory.Exists(_layout.Host(dir)); dir = Path.GetDirectoryName(dir))
        {
            missing.Push(dir);
        }
        return missing;
    }
}
