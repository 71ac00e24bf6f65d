// ReplyMutator.cs - turns valid broker answers into the malformed, hostile and merely odd ones a fuzzer needs.
using System.Buffers.Binary;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Fuzz;

/// <summary>
/// Generates <see cref="FuzzCase"/>s from a seed: most start from a valid LaneGrant answer and get one to three
/// mutations (bit flips, truncation, splices, edge-case frame headers, random protobuf fields), the rest are random
/// bytes; headers and trailers get hostile values too. Case <c>i</c> of seed <c>s</c> is always the same.
/// </summary>
public static class ReplyMutator
{
    private static readonly string?[] ContentTypes = ["application/grpc", "application/grpc+proto", "application/grpc+json", "text/html", "application/json", "", "application/grpc; charset=\u00ff", null];
    private static readonly string?[] Encodings = ["identity", "gzip", "deflate", "br", "", "\u0001\u0002", null];
    private static readonly string[] StatusTexts = ["0", "1", "2", "4", "5", "7", "8", "12", "13", "14", "16", "17", "99", "-1", "", " 0", "0 ", "00", "+0", "1e3", "0x0", "banana", "2147483648", "99999999999999999999", "\u0660"];
    private static readonly int[] HttpStatuses = [100, 101, 204, 301, 400, 401, 404, 429, 500, 502, 503, 504, 999];
    private static readonly uint[] EdgeLengths = [0, 1, 2, 4, 5, 127, 128, 65535, 65536, 4194304, 4194305, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF];
    private static readonly ulong[] EdgeVarints = [0, 1, 63, 64, 127, 128, 255, 65535, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1UL << 32, 1UL << 40, 1UL << 62, long.MaxValue, ulong.MaxValue];

    private static readonly byte[][] Seeds = BuildSeeds();

    /// <summary>Case <paramref name="index"/> of the run with <paramref name="seed"/>.</summary>
    public static FuzzCase Generate(int seed, long index)
    {
        var random = new Random(FuzzSeed.For(seed, index));
        byte[] body = random.Next(20) == 0 ? RandomBytes(random, random.Next(0, 80)) : Mutate(random, Seeds[random.Next(Seeds.Length)]);
        int http = random.Next(16) == 0 ? HttpStatuses[random.Next(HttpStatuses.Length)] : 200;
        string? contentType = random.Next(10) == 0 ? ContentTypes[random.Next(ContentTypes.Length)] : "application/grpc";
        string? encoding = random.Next(8) == 0 ? Encodings[random.Next(Encodings.Length)] : null;
        string? headerStatus = random.Next(12) == 0 ? StatusText(random) : null;
        string? trailerStatus = random.Next(6) == 0 ? (random.Next(4) == 0 ? null : StatusText(random)) : "0";
        string? message = random.Next(6) == 0 ? StatusMessage(random) : null;
        return new FuzzCase(http, contentType, encoding, body, headerStatus, trailerStatus, message);
    }

    /// <summary>
    /// A well-formed answer (HTTP 200, application/grpc, one of the seed grants, grpc-status 0): for the wire fuzzer,
    /// whose HTTP/2 and HPACK variations need gRPC content that gets through to the grant when the framing is right.
    /// </summary>
    public static FuzzCase Valid(Random random) =>
        new(200, random.Next(4) == 0 ? "application/grpc+proto" : "application/grpc", random.Next(4) == 0 ? "identity" : null,
            Seeds[random.Next(Seeds.Length)], null, "0", random.Next(8) == 0 ? "" : null);

    /// <summary>The valid answers mutations start from: framed LaneGrants of several shapes.</summary>
    public static IReadOnlyList<byte[]> SeedBodies => Seeds;

    private static byte[][] BuildSeeds()
    {
        long expires = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds();
        LaneGrant full = new()
        {
            LeaseId = "0f6c2a5e-1b7d-4c1e-9d9e-2f4b3a7c8d90", ExpiresUnixMs = expires, LaneClass = "bulk", RateBps = 1_000_000_000,
            RttUs = 40_000, BdpBytes = 5_000_000, SndbufBytes = 10_000_000, SndbufMode = BufferMode.Set, RcvbufBytes = 10_000_000,
            RcvbufMode = BufferMode.Force, Congestion = "cubic", PacingRate = 125_000_000, Dscp = 10, Mark = 1, NotsentLowat = 131072,
            PathId = "path2", Reason = "1 Gbit/s x 40 ms = 5 MB; doubled for the kernel's overhead", Bulk = true, PerFlow = true,
        };
        LaneGrant minimal = new() { LeaseId = "l", ExpiresUnixMs = expires };
        LaneGrant autotune = new()
        {
            LeaseId = "lease-2", ExpiresUnixMs = expires, LaneClass = "dtn", RateBps = 10_000_000_000, SndbufMode = BufferMode.Autotune,
            RcvbufMode = BufferMode.Autotune, Congestion = "bbr", PacingRate = 1_250_000_000,
        };
        return [GrpcFraming.Encode(full), GrpcFraming.Encode(minimal), GrpcFraming.Encode(autotune), GrpcFraming.Encode(new LaneGrant())];
    }

    private static byte[] Mutate(Random random, byte[] seed)
    {
        List<byte> data = [.. seed];
        int rounds = 1 + random.Next(3);
        for (int r = 0; r < rounds; r++)
        {
            switch (random.Next(11))
            {
                case 0: // flip one to eight bits
                    for (int i = random.Next(1, 9); i > 0 && data.Count > 0; i--)
                    {
                        int at = random.Next(data.Count);
                        data[at] ^= (byte)(1 << random.Next(8));
                    }
                    break;
                case 1: // overwrite a byte with an interesting value
                    if (data.Count > 0)
                    {
                        data[random.Next(data.Count)] = (byte)(random.Next(4) switch { 0 => 0, 1 => 0xFF, 2 => 0x80, _ => random.Next(256) });
                    }
                    break;
                case 2: // truncate
                    int keep = random.Next(data.Count + 1);
                    data.RemoveRange(keep, data.Count - keep);
                    break;
                case 3: // insert random bytes
                    data.InsertRange(random.Next(data.Count + 1), RandomBytes(random, random.Next(1, 16)));
                    break;
                case 4: // an edge-case length in the frame header
                    if (data.Count >= GrpcFraming.HeaderLength)
                    {
                        SetLength(data, EdgeLengths[random.Next(EdgeLengths.Length)]);
                    }
                    break;
                case 5: // the compressed flag
                    if (data.Count > 0)
                    {
                        data[0] = (byte)(random.Next(3) switch { 0 => 1, 1 => 2, _ => 0xFF });
                    }
                    break;
                case 6: // random protobuf fields appended to the message, frame length fixed up
                    AppendFields(random, data, fixLength: true);
                    break;
                case 7: // the same, without fixing the frame length
                    AppendFields(random, data, fixLength: false);
                    break;
                case 8: // a second frame
                    data.AddRange(seed);
                    break;
                case 9: // duplicate a slice inside the message
                    if (data.Count > 6)
                    {
                        int from = random.Next(GrpcFraming.HeaderLength, data.Count);
                        int count = random.Next(1, Math.Min(32, data.Count - from) + 1);
                        data.InsertRange(random.Next(GrpcFraming.HeaderLength, data.Count + 1), data.GetRange(from, count));
                        FixLength(data);
                    }
                    break;
                default: // delete a slice and keep the frame consistent
                    if (data.Count > 6)
                    {
                        int from = random.Next(GrpcFraming.HeaderLength, data.Count);
                        data.RemoveRange(from, random.Next(1, data.Count - from + 1));
                        FixLength(data);
                    }
                    break;
            }
        }
        return [.. data];
    }

    private static void AppendFields(Random random, List<byte> data, bool fixLength)
    {
        for (int i = random.Next(1, 5); i > 0; i--)
        {
            ulong field = random.Next(8) == 0 ? (ulong)random.Next(1, 536_870_911) : (ulong)random.Next(1, 24);
            int wireType = random.Next(8); // 6 and 7 are not wire types at all
            Varint(data, (field << 3) | (uint)wireType);
            switch (wireType)
            {
                case 0:
                    Varint(data, EdgeVarints[random.Next(EdgeVarints.Length)]);
                    break;
                case 1:
                    data.AddRange(RandomBytes(random, 8));
                    break;
                case 2:
                    byte[] payload = RandomBytes(random, random.Next(0, 24));
                    Varint(data, random.Next(6) == 0 ? EdgeVarints[random.Next(EdgeVarints.Length)] : (ulong)payload.Length);
                    data.AddRange(payload);
                    break;
                case 5:
                    data.AddRange(RandomBytes(random, 4));
                    break;
                default: // groups (3, 4) and invalid types: no payload, the parser must cope
                    break;
            }
        }
        if (fixLength)
        {
            FixLength(data);
        }
    }

    // Protobuf base-128 varint; Google.Protobuf keeps its raw writers internal.
    private static void Varint(List<byte> data, ulong value)
    {
        while (value >= 0x80)
        {
            data.Add((byte)(value | 0x80));
            value >>= 7;
        }
        data.Add((byte)value);
    }

    private static void FixLength(List<byte> data)
    {
        if (data.Count >= GrpcFraming.HeaderLength)
        {
            SetLength(data, (uint)(data.Count - GrpcFraming.HeaderLength));
        }
    }

    private static void SetLength(List<byte> data, uint length)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, length);
        for (int i = 0; i < 4; i++)
        {
            data[1 + i] = bytes[i];
        }
    }

    private static string StatusText(Random random) => StatusTexts[random.Next(StatusTexts.Length)];

    private static string StatusMessage(Random random) => random.Next(5) switch
    {
        0 => "%" + string.Concat(Enumerable.Range(0, random.Next(1, 30)).Select(_ => (char)random.Next(32, 127))),
        1 => new string('%', random.Next(1, 8)) + "zz%e2%82",
        2 => string.Concat(Enumerable.Range(0, random.Next(1, 200)).Select(_ => "%" + random.Next(256).ToString("X2"))),
        3 => new string((char)random.Next(0x80, 0x100), random.Next(1, 50)),
        _ => new string('x', random.Next(0, 20_000)),
    };

    private static byte[] RandomBytes(Random random, int count)
    {
        byte[] bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
