// FuzzSeed.cs - the random seed of case i of a run: the same in every process, so a reported case can be replayed.
namespace LaneShim.Fuzz;

/// <summary>
/// Derives per-case seeds with SplitMix64. HashCode.Combine, used before, is randomized per process, so a failing case
/// could not be run again from its seed and index.
/// </summary>
public static class FuzzSeed
{
    /// <summary>The seed of case <paramref name="index"/> of run <paramref name="seed"/>, for the generator <paramref name="stream"/>.</summary>
    public static int For(int seed, long index, int stream = 0)
    {
        ulong x = ((ulong)(uint)seed << 32) ^ (ulong)index ^ ((ulong)(uint)stream * 0xD1B54A32D192ED03UL);
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return (int)(x ^ (x >> 31));
    }
}
