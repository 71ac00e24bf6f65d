// SiteInstaller.cs - `laneshim install --site`: libraries, CLI, config examples, the broker unit (unless the Debian package holds them), and last the /etc/ld.so.preload entry.
using System.Text;

namespace LaneShim.Cli.Site;

/// <summary>Installs LaneShim for every process on a host (or under a staging root).</summary>
internal static class SiteInstaller
{
    private const UnixFileMode Executable = (UnixFileMode)0b111_101_101;
    private const UnixFileMode Readable = (UnixFileMode)0b110_100_100;

    /// <summary>Smoke-tests the shim, then installs; throws <see cref="SiteException"/> before changing anything if the smoke test fails.</summary>
    public static void Install(SiteLayout layout, string shim, string agent, string cliDir, TextWriter log)
    {
        foreach (string source in new[] { shim, agent, Path.Combine(cliDir, "laneshim") })
        {
            if (!File.Exists(source))
            {
                throw new SiteException($"laneshim install: {source} is missing; run ./build.sh (or pass the built files)");
            }
        }
        if (SmokeTest.Run(shim, agent) is { } problem)
        {
            throw new SiteException($"laneshim install: refusing to install: the smoke test of {shim} failed: {problem}. Nothing was changed.");
        }
        log.WriteLine($"smoke test passed: /bin/true, /bin/sh, a TCP connect and the shim mapped, the same with {shim} preloaded");

        // From the Debian package the package owns the libraries, CLI, configuration and unit: only the preload entry is ours.
        bool packaged = PackageLayout.IsPackaged(shim);
        string entry = packaged ? PackageLayout.Shim : SiteLayout.Shim;
        InstallManifest manifest = InstallManifest.Load(layout.Host(SiteLayout.Manifest)) ?? new InstallManifest { PreloadEntry = entry };
        if (manifest.PreloadEntry != entry)
        {
            throw new SiteException($"laneshim install: an earlier site install preloads {manifest.PreloadEntry}; run its `laneshim uninstall --site` first. Nothing was changed.");
        }
        var journal = new InstallJournal(layout, manifest);
        if (packaged)
        {
            log.WriteLine($"packaged install: the package holds the libraries in {PackageLayout.LibDir}, the CLI, /etc/laneshim and the broker unit");
        }
        else
        {
            CopyFiles(layout, journal, shim, agent, cliDir, log);
        }

        // Last: from here on every new process loads the shim.
        AddPreloadEntry(layout, journal, manifest, log);
        Systemd.ReloadIfRunning(layout, log);
        log.WriteLine($"installed; `laneshim uninstall --site{(layout.IsLiveSystem ? "" : $" --root {layout.Root}")}` restores the previous state");
    }

    // The unpackaged install (a build tree's out/): libraries, CLI, configuration examples and the unit under /usr/local and /etc.
    private static void CopyFiles(SiteLayout layout, InstallJournal journal, string shim, string agent, string cliDir, TextWriter log)
    {
        journal.WriteFile(SiteLayout.Shim, File.ReadAllBytes(shim), Executable);
        journal.WriteFile(SiteLayout.Agent, File.ReadAllBytes(agent), Executable);
        log.WriteLine($"libraries in {layout.Host(SiteLayout.LibDir)}");
        string cliRoot = Path.GetFullPath(cliDir);
        foreach (string file in Directory.EnumerateFiles(cliRoot, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(cliRoot, file);
            journal.WriteFile($"{SiteLayout.CliDir}/{relative}", File.ReadAllBytes(file), File.GetUnixFileMode(file));
        }
        journal.WriteSymlink(SiteLayout.BinLink, SiteLayout.BinLinkTarget);
        log.WriteLine($"CLI in {layout.Host(SiteLayout.CliDir)}, linked from {layout.Host(SiteLayout.BinLink)}");
        journal.EnsureDirectory(SiteLayout.ConfigDir);
        foreach ((string path, string text) in new[] { (SiteLayout.ClientConfig, SiteFiles.ClientConfig), (SiteLayout.Policy, SiteFiles.Policy) })
        {
            log.WriteLine(journal.WriteIfAbsent(path, Encoding.UTF8.GetBytes(text), Readable)
                ? $"wrote {layout.Host(path)}"
                : $"kept {layout.Host(path)}");
        }
        journal.WriteFile(SiteLayout.Unit, Encoding.UTF8.GetBytes(SiteFiles.Unit), Readable);
        log.WriteLine($"broker unit {layout.Host(SiteLayout.Unit)}");
    }

    private static void AddPreloadEntry(SiteLayout layout, InstallJournal journal, InstallManifest manifest, TextWriter log)
    {
        string preload = layout.Host(SiteLayout.Preload);
        string before = File.Exists(preload) ? File.ReadAllText(preload) : "";
        string after = PreloadFile.Add(before, manifest.PreloadEntry);
        UnixFileMode mode = File.Exists(preload) ? File.GetUnixFileMode(preload) : Readable;
        (int Uid, int Gid)? owner = File.Exists(preload) ? FileOwner.Get(preload) : null;
        if (after != before || !File.Exists(preload))
        {
            journal.WriteFile(SiteLayout.Preload, Encoding.UTF8.GetBytes(after), mode);
            if (owner is { } o)
            {
                FileOwner.Set(preload, o.Uid, o.Gid); // the edited list keeps its owner as well as its mode
            }
            log.WriteLine($"added {manifest.PreloadEntry} to {preload}");
        }
        else
        {
            log.WriteLine($"{preload} already lists {manifest.PreloadEntry}");
        }
    }
}
