// DemoFile.cs - a test file the servers offer: where it is and how big.
namespace LaneShim.Lab.Demo;

/// <summary>A file of random bytes in the demo's data directory.</summary>
internal sealed record DemoFile(string Path, long Bytes)
{
    /// <summary>The size for people: "1.00 GB" (decimal, as transfer sizes are quoted).</summary>
    public string Size => DemoFormat.Bytes(Bytes);
}
