// ElfInspector.cs - tells whether a program is dynamically linked, i.e. whether LD_PRELOAD can reach it.
using System.Buffers.Binary;

namespace LaneShim.Cli.Demo;

/// <summary>Reads an ELF file's program headers and looks for PT_INTERP (the dynamic loader): without it LD_PRELOAD does nothing.</summary>
internal static class ElfInspector
{
    private const uint PtInterp = 3;

    /// <summary>True when the file is a 64-bit little-endian ELF with a dynamic loader; false for static ELF files; null when it is not such an ELF file (a script, say).</summary>
    public static bool? IsDynamic(string path)
    {
        try
        {
            using FileStream f = File.OpenRead(path);
            Span<byte> header = stackalloc byte[64];
            if (f.Read(header) < 64 || header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F'
                || header[4] != 2 /* ELFCLASS64 */ || header[5] != 1 /* little endian */)
            {
                return null;
            }
            long phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
            int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[54..]);
            int phnum = BinaryPrimitives.ReadUInt16LittleEndian(header[56..]);
            byte[] entry = new byte[Math.Max(phentsize, 4)];
            for (int i = 0; i < phnum; i++)
            {
                f.Position = phoff + (long)i * phentsize;
                if (f.Read(entry, 0, phentsize) < 4)
                {
                    return null;
                }
                if (BinaryPrimitives.ReadUInt32LittleEndian(entry) == PtInterp)
                {
                    return true;
                }
            }
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
