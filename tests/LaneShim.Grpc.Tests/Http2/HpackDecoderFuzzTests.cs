// HpackDecoderFuzzTests.cs - 200k mutated and random header blocks: the decoder succeeds or throws HpackException, nothing else.
using System.Diagnostics;
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class HpackDecoderFuzzTests
{
    private const int Iterations = 200_000;

    // Valid blocks to mutate: the RFC's, plus ones that reach size updates, never-indexed and long Huffman strings.
    private static readonly string[] s_seeds =
    [
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        "4803 3330 37c1 c0bf",
        "1008 7061 7373 776f 7264 0673 6563 7265 74",
        "20 3fe1 1f 82",
        "3f 45 40 01 61 01 62 be",
    ];

    [TestMethod]
    public void MutatedAndRandomBlocks_OnlyHpackExceptionEscapes()
    {
        var random = new Random(20240541);
        byte[][] seeds = s_seeds.Select(s => Convert.FromHexString(s.Replace(" ", string.Empty, StringComparison.Ordinal))).ToArray();
        var output = new List<KeyValuePair<string, string>>();

        // A long-lived decoder, as on a connection (it keeps going after errors, so odd table states get exercised),
        // with small limits so the limit paths are hit too.
        var decoder = new HpackDecoder(maxTableSize: 256, maxHeaderListSize: 1024, maxStringLength: 200);
        int accepted = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Iterations; i++)
        {
            if (i % 1000 == 0)
            {
                decoder = i % 2000 == 0 ? new HpackDecoder() : new HpackDecoder(maxTableSize: 256, maxHeaderListSize: 1024, maxStringLength: 200);
            }

            byte[] block = Mutate(random, seeds);
            output.Clear();
            try
            {
                decoder.Decode(block, output);
                accepted++;
            }
            catch (HpackException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"block {Convert.ToHexString(block)} threw {e.GetType().Name}: {e}");
            }
        }

        Assert.IsTrue(accepted > Iterations / 50, $"only {accepted} of {Iterations} blocks decoded: the mutations are too destructive to reach deep paths");
        Console.WriteLine($"{Iterations} blocks, {accepted} accepted, {clock.ElapsedMilliseconds} ms");
    }

    private static byte[] Mutate(Random random, byte[][] seeds)
    {
        if (random.Next(10) == 0)
        {
            var noise = new byte[random.Next(0, 64)];
            random.NextBytes(noise);
            return noise;
        }

        var block = new List<byte>(seeds[random.Next(seeds.Length)]);
        int edits = random.Next(0, 4);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(block.Count + 1);
            switch (random.Next(6))
            {
                case 0 when at < block.Count:
                    block[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when at < block.Count:
                    block[at] = (byte)random.Next(256);
                    break;
                case 2:
                    block.Insert(at, (byte)random.Next(256));
                    break;
                case 3 when at < block.Count:
                    block.RemoveAt(at);
                    break;
                case 4:
                    block.RemoveRange(at, block.Count - at);
                    break;
                default:
                    byte[] other = seeds[random.Next(seeds.Length)];
                    block.InsertRange(at, other.AsSpan(random.Next(other.Length)).ToArray());
                    break;
            }
        }

        return [.. block];
    }
}
