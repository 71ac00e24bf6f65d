// OneByteStream.cs - a stream that hands out one byte per read, like a slow network, to test frame reassembly.
namespace LaneShim.Grpc.Tests;

/// <summary>A memory stream whose reads return at most one byte.</summary>
internal sealed class OneByteStream(byte[] data) : MemoryStream(data)
{
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
}
