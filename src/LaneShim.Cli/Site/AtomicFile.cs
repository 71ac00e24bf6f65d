// AtomicFile.cs - replace a file or symlink so every reader sees the old or the new one whole: temp file, fsync, rename, fsync the directory.
using System.Security.Cryptography;
using System.Text;
using LaneShim.Cli.Native;

namespace LaneShim.Cli.Site;

/// <summary>
/// Crash-safe file replacement. A half-written /etc/ld.so.preload or a library rewritten in place would break every
/// program that starts (or has it mapped) at that moment; rename(2) swaps the name in one step and leaves the old inode to its users.
/// </summary>
internal static class AtomicFile
{
    private const int ODirectory = 0x10000;

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> with <paramref name="mode"/>.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes, UnixFileMode mode)
    {
        string temp = TempName(path);
        try
        {
            using (var f = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
            {
                f.Write(bytes);
                f.Flush(flushToDisk: true);
            }
            File.SetUnixFileMode(temp, mode); // the umask may have narrowed the create mode
            File.Move(temp, path, overwrite: true); // rename(2)
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>Points <paramref name="path"/> at <paramref name="target"/>, replacing whatever is there.</summary>
    public static void Symlink(string path, string target)
    {
        string temp = TempName(path);
        File.CreateSymbolicLink(temp, target);
        try
        {
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>Removes a file or symlink (not what a symlink points to).</summary>
    public static void Delete(string path)
    {
        File.Delete(path);
        SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>SHA-256 of a file's bytes, or of a symlink's target text; null when nothing is there.</summary>
    public static string? Hash(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is { } link)
        {
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(link)));
        }
        return info.Exists ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) : null;
    }

    /// <summary>SHA-256 of bytes about to be written.</summary>
    public static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Makes a rename or unlink in <paramref name="directory"/> durable.</summary>
    public static void SyncDirectory(string directory)
    {
        int fd = Libc.Open(directory, ODirectory);
        if (fd >= 0)
        {
            Libc.FSync(fd);
            Libc.Close(fd);
        }
    }

    private static string TempName(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.laneshim-{Environment.ProcessId}.tmp");
}
