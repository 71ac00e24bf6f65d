// SiteUninstaller.cs - `laneshim uninstall --site`: the preload entry first, then every path back to its recorded state.
namespace LaneShim.Cli.Site;

/// <summary>Undoes a site install from its manifest; what was edited since the install is kept and reported, never thrown away.</summary>
internal static class SiteUninstaller
{
    /// <summary>Restores every recorded path; returns how many paths were left as they are (edited since the install).</summary>
    public static int Uninstall(SiteLayout layout, TextWriter log)
    {
        string manifestPath = layout.Host(SiteLayout.Manifest);
        InstallManifest manifest = InstallManifest.Load(manifestPath)
            ?? throw new SiteException($"laneshim uninstall: nothing to uninstall: {manifestPath} does not exist");
        string stateDir = layout.Host(SiteLayout.StateDir);
        int kept = 0;
        // The preload entry goes first, so no new process maps a library that is about to go.
        IEnumerable<ManifestEntry> order = manifest.Entries.Where(e => e.Path == SiteLayout.Preload)
            .Concat(Enumerable.Reverse(manifest.Entries).Where(e => e.Path != SiteLayout.Preload));
        foreach (ManifestEntry entry in order)
        {
            if (!Restore(layout, manifest, entry, stateDir, log))
            {
                kept++;
            }
        }
        foreach (ManifestEntry entry in manifest.Entries.Where(e => e.Backup is not null))
        {
            File.Delete(Path.Combine(stateDir, entry.Backup!));
        }
        File.Delete(manifestPath);
        if (Directory.Exists(stateDir) && !Directory.EnumerateFileSystemEntries(stateDir).Any())
        {
            Directory.Delete(stateDir);
        }
        foreach (string dir in Enumerable.Reverse(manifest.StateDirectories))
        {
            string host = layout.Host(dir);
            if (Directory.Exists(host) && !Directory.EnumerateFileSystemEntries(host).Any())
            {
                Directory.Delete(host);
            }
        }
        Systemd.ReloadIfRunning(layout, log);
        log.WriteLine(kept == 0 ? "uninstalled; every path is as it was before the install" : $"uninstalled; {kept} path(s) edited since the install were left as they are");
        return kept;
    }

    private static bool Restore(SiteLayout layout, InstallManifest manifest, ManifestEntry entry, string stateDir, TextWriter log)
    {
        string host = layout.Host(entry.Path);
        if (entry.Installed == "directory")
        {
            if (Directory.Exists(host) && Directory.EnumerateFileSystemEntries(host).Any())
            {
                log.WriteLine($"kept {host}: not empty");
                return false;
            }
            if (Directory.Exists(host))
            {
                Directory.Delete(host);
            }
            return true;
        }
        string? current = AtomicFile.Hash(host);
        if (current != entry.InstalledHash)
        {
            if (current is null && entry.Previous == "absent")
            {
                return true; // already gone
            }
            if (entry.Path == SiteLayout.Preload && current is not null)
            {
                // Someone else changed the preload list since: take out only our line.
                string text = File.ReadAllText(host);
                AtomicFile.Write(host, System.Text.Encoding.UTF8.GetBytes(PreloadFile.Remove(text, manifest.PreloadEntry)), File.GetUnixFileMode(host));
                log.WriteLine($"{host} changed since the install: removed only {manifest.PreloadEntry}");
                return false;
            }
            log.WriteLine($"kept {host}: changed since the install");
            return false;
        }
        switch (entry.Previous)
        {
            case "absent":
                AtomicFile.Delete(host);
                break;
            case "file":
                AtomicFile.Write(host, File.ReadAllBytes(Path.Combine(stateDir, entry.Backup!)), (UnixFileMode)entry.PreviousMode);
                break;
            case "symlink":
                AtomicFile.Symlink(host, entry.PreviousLink!);
                break;
            default:
                throw new SiteException($"{layout.Host(SiteLayout.Manifest)}: unknown previous state '{entry.Previous}' for {entry.Path}");
        }
        if (entry.PreviousUid is int uid && entry.PreviousGid is int gid)
        {
            FileOwner.Set(host, uid, gid);
        }
        return true;
    }
}
