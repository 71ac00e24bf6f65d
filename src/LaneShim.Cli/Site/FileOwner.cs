// FileOwner.cs - reads and sets a path's owner (lstat/lchown), which .NET's file APIs do not expose, so a restore puts it back too.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using LaneShim.Cli.Native;

namespace LaneShim.Cli.Site;

/// <summary>Owner and group of a file or symlink itself (not of what a symlink points to).</summary>
internal static class FileOwner
{
    // struct stat on x86-64 and aarch64 glibc: st_uid and st_gid follow dev, ino, nlink (x86-64) or dev, ino, mode, nlink (aarch64).
    private static readonly (int Uid, int Gid) Offsets = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? (24, 28) : (28, 32);

    /// <summary>The owner of <paramref name="path"/>, or null when it cannot be read.</summary>
    public static (int Uid, int Gid)? Get(string path)
    {
        Span<byte> st = stackalloc byte[256]; // larger than struct stat on every glibc target
        if (Libc.LStat(path, ref MemoryMarshal.GetReference(st)) != 0)
        {
            return null;
        }
        return (BinaryPrimitives.ReadInt32LittleEndian(st[Offsets.Uid..]), BinaryPrimitives.ReadInt32LittleEndian(st[Offsets.Gid..]));
    }

    /// <summary>Gives <paramref name="path"/> (a symlink itself, not its target) back to its owner.</summary>
    public static void Set(string path, int uid, int gid)
    {
        if (Libc.LChown(path, uid, gid) != 0)
        {
            throw new IOException($"cannot give {path} back to {uid}:{gid} (errno {Marshal.GetLastPInvokeError()})");
        }
    }
}
