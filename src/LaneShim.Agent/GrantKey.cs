// GrantKey.cs - what makes two flows share a cached grant: direction, the address and port that name the service, and the app's own buffers.
using System.Buffers.Binary;

namespace LaneShim.Agent;

/// <summary>
/// A grant-cache key with no allocation: the connect path builds one per eligible connect. The address is 16 bytes
/// (an IPv4 address fills the first 4, family kept apart); <c>-1</c> means the program did not set that buffer.
/// </summary>
internal readonly record struct GrantKey(int Direction, int Family, ulong AddressHigh, ulong AddressLow, int Port, int AppSndbuf, int AppRcvbuf)
{
    public static GrantKey Of(int direction, int family, ReadOnlySpan<byte> address, int port, int appSndbuf, int appRcvbuf)
    {
        Span<byte> padded = stackalloc byte[16];
        padded.Clear();
        address[..Math.Min(address.Length, 16)].CopyTo(padded);
        return new GrantKey(direction, family, BinaryPrimitives.ReadUInt64BigEndian(padded), BinaryPrimitives.ReadUInt64BigEndian(padded[8..]), port, appSndbuf, appRcvbuf);
    }
}
