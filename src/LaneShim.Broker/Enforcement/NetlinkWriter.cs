// NetlinkWriter.cs - builds netlink messages: nlmsghdr + nfgenmsg headers and (nested) attributes, 4-byte aligned.
using System.Buffers.Binary;
using System.Text;

namespace LaneShim.Broker.Enforcement;

/// <summary>Appends netfilter netlink messages to one buffer; lengths are patched when a message or nest ends.</summary>
internal sealed class NetlinkWriter
{
    private readonly List<byte> _buffer = new(512);
    private int _message = -1;

    /// <summary>Starts a message: nlmsghdr (len patched by <see cref="End"/>) and nfgenmsg.</summary>
    public void Begin(ushort type, ushort flags, uint seq, byte family, int resId)
    {
        _message = _buffer.Count;
        Put32(0);
        Put16(type);
        Put16(flags);
        Put32((int)seq);
        Put32(0);
        _buffer.Add(family);
        _buffer.Add(0); // NFNETLINK_V0
        _buffer.Add((byte)(resId >> 8)); // res_id is big-endian
        _buffer.Add((byte)resId);
    }

    public void End()
    {
        Patch32(_message, _buffer.Count - _message);
        _message = -1;
    }

    public void String(ushort type, string value)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(value + "\0");
        Bytes(type, bytes);
    }

    public void UInt64BigEndian(ushort type, ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        Bytes(type, bytes);
    }

    public void Bytes(ushort type, ReadOnlySpan<byte> value)
    {
        Put16((ushort)(4 + value.Length));
        Put16(type);
        foreach (byte b in value)
        {
            _buffer.Add(b);
        }
        Align();
    }

    /// <summary>Starts a nested attribute; returns its offset for <see cref="EndNest"/>.</summary>
    public int Nest(ushort type)
    {
        int at = _buffer.Count;
        Put16(0);
        Put16((ushort)(type | 0x8000)); // NLA_F_NESTED
        return at;
    }

    public void EndNest(int at)
    {
        int length = _buffer.Count - at;
        _buffer[at] = (byte)length;
        _buffer[at + 1] = (byte)(length >> 8);
    }

    public byte[] ToArray() => [.. _buffer];

    private void Align()
    {
        while (_buffer.Count % 4 != 0)
        {
            _buffer.Add(0);
        }
    }

    private void Put16(ushort v)
    {
        _buffer.Add((byte)v);
        _buffer.Add((byte)(v >> 8));
    }

    private void Put32(int v)
    {
        _buffer.Add((byte)v);
        _buffer.Add((byte)(v >> 8));
        _buffer.Add((byte)(v >> 16));
        _buffer.Add((byte)(v >> 24));
    }

    private void Patch32(int at, int v)
    {
        _buffer[at] = (byte)v;
        _buffer[at + 1] = (byte)(v >> 8);
        _buffer[at + 2] = (byte)(v >> 16);
        _buffer[at + 3] = (byte)(v >> 24);
    }
}
