// InstallManifest.cs - the record under /var/lib/laneshim/install that lets uninstall put every path back as it was.
using System.Text.Json;

namespace LaneShim.Cli.Site;

/// <summary>Entries in the order they were first touched; uninstall walks them backwards.</summary>
internal sealed class InstallManifest
{
    /// <summary>Format version of this file.</summary>
    public int Version { get; set; } = 1;

    /// <summary>The line the install added to /etc/ld.so.preload.</summary>
    public string PreloadEntry { get; set; } = SiteLayout.Shim;

    /// <summary>Directories above the state directory that the install created (removed last).</summary>
    public List<string> StateDirectories { get; set; } = [];

    /// <summary>Every path the install created or replaced.</summary>
    public List<ManifestEntry> Entries { get; set; } = [];

    /// <summary>The entry for <paramref name="path"/>, if the install has touched it.</summary>
    public ManifestEntry? Find(string path) => Entries.Find(e => e.Path == path);

    public static InstallManifest? Load(string hostPath)
    {
        if (!File.Exists(hostPath))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(hostPath), SiteJson.Default.InstallManifest)
                ?? throw new SiteException($"{hostPath}: empty install record");
        }
        catch (JsonException e)
        {
            throw new SiteException($"{hostPath}: unreadable install record ({e.Message}); restore it or remove LaneShim by hand");
        }
    }

    /// <summary>Saved atomically after every change, so an install stopped half-way can still be undone.</summary>
    public void Save(string hostPath) => AtomicFile.Write(hostPath, JsonSerializer.SerializeToUtf8Bytes(this, SiteJson.Default.InstallManifest), (UnixFileMode)0b110_000_000);
}
