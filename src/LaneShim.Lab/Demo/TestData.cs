// TestData.cs - writes the random files the servers offer (incompressible, so no tool can shortcut the network).
namespace LaneShim.Lab.Demo;

/// <summary>Creates test files of pseudo-random bytes.</summary>
internal static class TestData
{
    private const int Chunk = 4 << 20;

    /// <summary>Writes <paramref name="bytes"/> pseudo-random bytes to <paramref name="path"/>, readable by everyone (anonymous servers run as nobody).</summary>
    public static DemoFile Write(string path, long bytes, int seed)
    {
        // A seeded generator, not a cryptographic one: a gigabyte in about a second, and no tool compresses it.
        var random = new Random(seed);
        byte[] buffer = new byte[Chunk];
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            for (long left = bytes; left > 0; left -= Chunk)
            {
                int n = (int)Math.Min(left, Chunk);
                random.NextBytes(buffer.AsSpan(0, n));
                stream.Write(buffer, 0, n);
            }
        }
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        return new DemoFile(path, bytes);
    }
}
