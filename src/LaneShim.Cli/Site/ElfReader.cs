// ElfReader.cs - reads just enough of a 64-bit little-endian ELF file to tell static, dynamic and Go programs apart.
using System.Buffers.Binary;
using System.Text;

namespace LaneShim.Cli.Site;

/// <summary>
/// Classifies an ELF executable: PT_INTERP means a dynamic loader (LD_PRELOAD works); a <c>.go.buildinfo</c> or
/// <c>.note.go.buildid</c> section, or a "Go" build-id note in a PT_NOTE segment (which survives stripped section
/// headers), means Go, whose net package never calls libc's connect.
/// </summary>
internal static class ElfReader
{
    private const uint PtInterp = 3;
    private const uint PtNote = 4;
    private const uint NtGoBuildId = 4;
    private const int MaxTableBytes = 1 << 20; // a string table or note segment larger than this is not worth reading

    /// <summary>The kind of the ELF file at <paramref name="path"/>; <see cref="ExecutableKind.Unknown"/> when it is not a readable ELF64 LE file.</summary>
    public static ExecutableKind Classify(string path)
    {
        try
        {
            using FileStream f = File.OpenRead(path);
            byte[] header = new byte[64];
            if (f.ReadAtLeast(header, 64, throwOnEndOfStream: false) < 64 || header[0] != 0x7f || header[1] != (byte)'E'
                || header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2 /* ELFCLASS64 */ || header[5] != 1 /* LSB */)
            {
                return ExecutableKind.Unknown;
            }
            bool dynamic = false, go = false;
            long phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(32));
            int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(54));
            int phnum = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(56));
            if (phentsize >= 56)
            {
                for (int i = 0; i < phnum; i++)
                {
                    byte[]? ph = ReadAt(f, phoff + (long)i * phentsize, 56);
                    if (ph is null)
                    {
                        return ExecutableKind.Unknown;
                    }
                    uint type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
                    dynamic |= type == PtInterp;
                    if (type == PtNote && !go)
                    {
                        long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(8));
                        long size = (long)BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(32));
                        go = size is > 0 and <= MaxTableBytes && ReadAt(f, offset, (int)size) is { } notes && HasGoNote(notes);
                    }
                }
            }
            go = go || HasGoSection(f, header);
            return go ? ExecutableKind.Go : dynamic ? ExecutableKind.Dynamic : ExecutableKind.Static;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return ExecutableKind.Unknown;
        }
    }

    /// <summary>Walks ELF notes (namesz, descsz, type, name, desc; each padded to 4 bytes) for Go's build id.</summary>
    private static bool HasGoNote(ReadOnlySpan<byte> notes)
    {
        int p = 0;
        while (p + 12 <= notes.Length)
        {
            uint namesz = BinaryPrimitives.ReadUInt32LittleEndian(notes[p..]);
            uint descsz = BinaryPrimitives.ReadUInt32LittleEndian(notes[(p + 4)..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(notes[(p + 8)..]);
            long nameEnd = p + 12L + namesz;
            if (nameEnd > notes.Length)
            {
                return false;
            }
            // The Go linker writes the name as "Go\0\0" with namesz 4; accept the plain "Go\0" (namesz 3) too.
            if (type == NtGoBuildId && namesz is 3 or 4 && notes.Slice(p + 12, 3).SequenceEqual("Go\0"u8))
            {
                return true;
            }
            long next = p + 12L + Align4(namesz) + Align4(descsz);
            if (next > notes.Length)
            {
                return false;
            }
            p = (int)next;
        }
        return false;
    }

    private static long Align4(uint n) => (n + 3L) & ~3L;

    /// <summary>Looks up section names in the section-header string table.</summary>
    private static bool HasGoSection(FileStream f, byte[] header)
    {
        long shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(40));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(58));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(60));
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(62));
        if (shoff == 0 || shentsize < 64 || shnum == 0 || shstrndx >= shnum)
        {
            return false;
        }
        byte[]? strtabHeader = ReadAt(f, shoff + (long)shstrndx * shentsize, 64);
        if (strtabHeader is null)
        {
            return false;
        }
        long strOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(strtabHeader.AsSpan(24));
        long strSize = (long)BinaryPrimitives.ReadUInt64LittleEndian(strtabHeader.AsSpan(32));
        if (strSize is <= 0 or > MaxTableBytes || ReadAt(f, strOffset, (int)strSize) is not { } names)
        {
            return false;
        }
        for (int i = 0; i < shnum; i++)
        {
            byte[]? sh = ReadAt(f, shoff + (long)i * shentsize, 64);
            if (sh is null)
            {
                return false;
            }
            int name = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(sh), (uint)names.Length);
            int end = Array.IndexOf(names, (byte)0, name);
            string s = Encoding.ASCII.GetString(names, name, (end < 0 ? names.Length : end) - name);
            if (s is ".go.buildinfo" or ".note.go.buildid")
            {
                return true;
            }
        }
        return false;
    }

    private static byte[]? ReadAt(FileStream f, long offset, int count)
    {
        if (offset < 0 || offset + count > f.Length)
        {
            return null;
        }
        byte[] buffer = new byte[count];
        f.Position = offset;
        return f.ReadAtLeast(buffer, count, throwOnEndOfStream: false) == count ? buffer : null;
    }
}
