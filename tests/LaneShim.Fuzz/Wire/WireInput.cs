// WireInput.cs - one wire-level fuzz input: the bytes a fake broker sends on a fresh connection, and how the connection is driven.
namespace LaneShim.Fuzz.Wire;

/// <summary>
/// What the broker's end of a socketpair sends for case <c>i</c> of a seed: a <see cref="FuzzCase"/> written as a real
/// HTTP/2 server would (<see cref="ResponseWriter"/>), then, for most inputs, mutated at the frame or byte level
/// (<see cref="WireMutator"/>). A sixteenth of the inputs carry two calls on one connection (the agent pools them): the
/// first answer is left intact, the second is mutated and written only after the agent refreshed the idle connection.
/// </summary>
public sealed class WireInput
{
    private WireInput(FuzzCase reply, byte[] first, byte[]? second, bool keepOpen, bool closed, string mutation)
    {
        Closed = closed;
        Reply = reply;
        First = first;
        Second = second;
        KeepOpen = keepOpen;
        Mutation = mutation;
    }

    /// <summary>The answer the first (or only) response was written from.</summary>
    public FuzzCase Reply { get; }

    /// <summary>Bytes written before the first call: the server's preface and the first response.</summary>
    public byte[] First { get; }

    /// <summary>Bytes written after the first call and a refresh, answering a second call on stream 3; null for one call.</summary>
    public byte[]? Second { get; }

    /// <summary>The server's end stays open after its last bytes, so a short stream leaves the agent waiting for its deadline.</summary>
    public bool KeepOpen { get; }

    /// <summary>The server's end is closed (not just shut down for writing) before the call: the agent's request write fails.</summary>
    public bool Closed { get; }

    /// <summary>none, frames, bytes or frames_bytes.</summary>
    public string Mutation { get; }

    /// <summary>Case <paramref name="index"/> of the run with <paramref name="seed"/>; the same in every process.</summary>
    public static WireInput Generate(int seed, long index)
    {
        var random = new Random(FuzzSeed.For(seed, index, stream: 1));
        // A third start from a well-formed answer, so that what varies is the HTTP/2 and HPACK around it.
        FuzzCase reply = random.Next(3) == 0 ? ReplyMutator.Valid(random) : ReplyMutator.Generate(seed, index);
        bool illegal = random.Next(5) == 0;
        int roll = random.Next(100);
        bool mutateFrames = roll is >= 45 and < 70 or >= 90;
        bool mutateBytes = roll >= 70;
        bool twoCalls = random.Next(16) == 0;
        bool keepOpen = !twoCalls && random.Next(256) == 0;
        bool closed = !twoCalls && !keepOpen && random.Next(64) == 0;

        var writer = new ResponseWriter(random) { Illegal = illegal && !twoCalls };
        List<WireFrame> frames = [];
        writer.Preface(frames);
        bool reusable = writer.Response(reply, 1, frames);
        string mutation = mutateFrames ? mutateBytes ? "frames_bytes" : "frames" : mutateBytes ? "bytes" : "none";
        if (twoCalls && reusable)
        {
            byte[] first = Serialize(frames, out _);
            writer.Illegal = illegal;
            List<WireFrame> more = [];
            writer.Response(random.Next(3) == 0 ? ReplyMutator.Valid(random) : ReplyMutator.Generate(seed, -1 - index), 3, more);
            return new WireInput(reply, first, Mutate(random, more, mutateFrames, mutateBytes), keepOpen: false, closed: false, mutation);
        }

        return new WireInput(reply, Mutate(random, frames, mutateFrames, mutateBytes), second: null, keepOpen, closed, mutation);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{(Second is null ? "one call" : "two calls")}, {(KeepOpen ? "server end left open" : Closed ? "server end closed" : "server end shut down")}, mutation {Mutation}; " +
        $"answer: {Reply}; first bytes {Hex(First)}" + (Second is null ? "" : $"; second bytes {Hex(Second)}");

    private static string Hex(byte[] bytes) =>
        $"{Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 512)))}{(bytes.Length > 512 ? "…" : "")} ({bytes.Length} bytes)";

    private static byte[] Mutate(Random random, List<WireFrame> frames, bool mutateFrames, bool mutateBytes)
    {
        if (mutateFrames)
        {
            WireMutator.MutateFrames(random, frames, 0);
        }

        byte[] bytes = Serialize(frames, out List<int> starts);
        if (!mutateBytes)
        {
            return bytes;
        }

        List<byte> data = [.. bytes];
        WireMutator.MutateBytes(random, data, 0, starts);
        return [.. data];
    }

    private static byte[] Serialize(List<WireFrame> frames, out List<int> starts)
    {
        var bytes = new List<byte>(frames.Sum(f => WireFrame.HeaderLength + f.Payload.Length));
        starts = new List<int>(frames.Count);
        foreach (WireFrame frame in frames)
        {
            starts.Add(bytes.Count);
            frame.WriteTo(bytes);
        }

        return [.. bytes];
    }
}
