// SockDiag.cs - NETLINK_SOCK_DIAG for TCP: dump a namespace's connections, look one up by 5-tuple and cookie, read destroy events.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using LaneShim.Broker.Native;
using LaneShim.Grpc;

namespace LaneShim.Broker.Liveness;

/// <summary>
/// Requests (struct nlmsghdr + struct inet_diag_req_v2) and replies (struct inet_diag_msg + attributes) of
/// linux/inet_diag.h, as `ss` uses them. A netlink socket sees the sockets of the namespace it was created in.
/// </summary>
internal static unsafe class SockDiag
{
    public const int AfNetlink = 16;
    public const int NetlinkSockDiag = 4;
    public const int SockRaw = 3;
    public const int SockCloexec = 0x80000;
    public const int SockNonblock = 0x800;
    public const int SolNetlink = 270;
    public const int NetlinkAddMembership = 1;

    /// <summary>SKNLGRP_INET_TCP_DESTROY and SKNLGRP_INET6_TCP_DESTROY: a message per TCP socket the namespace frees.</summary>
    public const int GroupTcpDestroy = 1, GroupTcp6Destroy = 3;

    /// <summary>
    /// Every state a connection with an open file can be in (not LISTEN, TIME_WAIT or the request socks), and
    /// TCP_BOUND_INACTIVE (Linux 6.6+; older kernels ignore the bit): bound sockets not yet connected, reported as CLOSE,
    /// which is what an outbound socket is when its lane is granted.
    /// </summary>
    public const uint ConnectionStates = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 9) | (1u << 11) | (1u << 13);

    private const ushort SockDiagByFamily = 20;
    private const ushort NlmsgError = 2, NlmsgDone = 3;
    private const ushort NlmFRequest = 0x1, NlmFDump = 0x300;
    private const byte IpProtoTcp = 6;
    private const byte ExtInfo = 1 << (2 - 1); // INET_DIAG_INFO
    private const ushort AttrInfo = 2;
    private const int HeaderSize = 16, RequestSize = 56, MessageSize = 72, SockIdSize = 48;

    /// <summary>Dumps the TCP sockets of <paramref name="family"/> in <paramref name="states"/>; <paramref name="each"/> sees every one. Returns 0 or an errno.</summary>
    public static int Dump(int fd, byte family, uint states, uint seq, byte[] buffer, Action<DiagEntry> each)
    {
        Span<byte> request = stackalloc byte[HeaderSize + RequestSize];
        Request(request, NlmFRequest | NlmFDump, seq, family, 0, states, default);
        if (Send(fd, request) is int sendErrno and not 0)
        {
            return sendErrno;
        }
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.Recv(fd, p, (nuint)buffer.Length, 0);
            }
            if (n <= 0)
            {
                return n == 0 ? 5 /* EIO */ : Marshal.GetLastPInvokeError();
            }
            for (int off = 0; off + HeaderSize <= n;)
            {
                int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(off));
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(off + 4));
                if (len < HeaderSize || off + len > n)
                {
                    return 5;
                }
                if (BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(off + 8)) == seq)
                {
                    if (type == NlmsgDone)
                    {
                        return 0;
                    }
                    if (type == NlmsgError)
                    {
                        return -BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(off + HeaderSize));
                    }
                    if (Parse(buffer.AsSpan(off, len)) is DiagEntry entry)
                    {
                        each(entry);
                    }
                }
                off += (len + 3) & ~3;
            }
        }
    }

    /// <summary>ENOENT: the kernel has no socket with that sockid (5-tuple and cookie).</summary>
    public const int Enoent = 2;

    /// <summary>
    /// The socket with this sockid (5-tuple and cookie), with its TCP_INFO: a hash lookup, not a walk of the tables.
    /// Null with <paramref name="errno"/> <see cref="Enoent"/> when the kernel has none, or another errno on failure.
    /// </summary>
    public static DiagEntry? Lookup(int fd, byte family, ReadOnlySpan<byte> sockId, uint seq, byte[] buffer, out int errno)
    {
        Span<byte> request = stackalloc byte[HeaderSize + RequestSize];
        Request(request, NlmFRequest, seq, family, ExtInfo, uint.MaxValue, sockId);
        if ((errno = Send(fd, request)) != 0)
        {
            return null;
        }
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.Recv(fd, p, (nuint)buffer.Length, 0);
            }
            if (n < HeaderSize)
            {
                errno = n < 0 ? Marshal.GetLastPInvokeError() : 5;
                return null;
            }
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(4));
            if (BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(8)) != seq || len > n)
            {
                continue; // an answer to an earlier request that timed out
            }
            if (type == NlmsgError)
            {
                errno = -BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(HeaderSize));
                return null;
            }
            errno = 0;
            return type == SockDiagByFamily ? Parse(buffer.AsSpan(0, len)) : null;
        }
    }

    /// <summary>
    /// A struct inet_diag_sockid: ports in network order, addresses as the family lays them out (IPv4 in the first
    /// 4 bytes), the cookie in two native-order words.
    /// </summary>
    public static byte[] SockId(byte family, System.Net.IPEndPoint local, System.Net.IPEndPoint remote, ulong cookie)
    {
        var id = new byte[SockIdSize];
        BinaryPrimitives.WriteUInt16BigEndian(id, (ushort)local.Port);
        BinaryPrimitives.WriteUInt16BigEndian(id.AsSpan(2), (ushort)remote.Port);
        Address(family, local.Address).CopyTo(id.AsSpan(4));
        Address(family, remote.Address).CopyTo(id.AsSpan(20));
        // Bytes 36-39: the interface, 0 (any).
        MemoryMarshal.Write(id.AsSpan(40, 4), (uint)cookie);
        MemoryMarshal.Write(id.AsSpan(44, 4), (uint)(cookie >> 32));
        return id;
    }

    // An IPv4 socket's addresses as 4 bytes; an IPv6 socket's as 16 (IPv4 peers as ::ffff:a.b.c.d).
    private static byte[] Address(byte family, System.Net.IPAddress address) => family == 2
        ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).GetAddressBytes()
        : (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? address.MapToIPv6() : address).GetAddressBytes();

    /// <summary>Every SOCK_DIAG_BY_FAMILY message in a datagram (destroy events come several to a read).</summary>
    public static void ParseAll(ReadOnlySpan<byte> datagram, Action<DiagEntry> each)
    {
        for (int off = 0; off + HeaderSize <= datagram.Length;)
        {
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram[off..]);
            if (len < HeaderSize || off + len > datagram.Length)
            {
                return;
            }
            if (Parse(datagram.Slice(off, len)) is DiagEntry entry)
            {
                each(entry);
            }
            off += (len + 3) & ~3;
        }
    }

    /// <summary>One netlink message: a DiagEntry when it is a SOCK_DIAG_BY_FAMILY reply, else null.</summary>
    public static DiagEntry? Parse(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderSize + MessageSize || BinaryPrimitives.ReadUInt16LittleEndian(message[4..]) != SockDiagByFamily)
        {
            return null;
        }
        ReadOnlySpan<byte> msg = message[HeaderSize..];
        Protocol.V1.FlowStats? stats = null;
        for (int off = MessageSize; off + 4 <= msg.Length;)
        {
            int alen = BinaryPrimitives.ReadUInt16LittleEndian(msg[off..]);
            int atype = BinaryPrimitives.ReadUInt16LittleEndian(msg[(off + 2)..]) & 0x3fff;
            if (alen < 4 || off + alen > msg.Length)
            {
                break;
            }
            if (atype == AttrInfo)
            {
                stats = TcpInfoStats.Decode(msg.Slice(off + 4, alen - 4));
            }
            off += (alen + 3) & ~3;
        }
        return new DiagEntry(msg[0], msg[1], MemoryMarshal.Read<uint>(msg[68..]), MemoryMarshal.Read<ulong>(msg[44..]), msg.Slice(4, SockIdSize).ToArray(), stats);
    }

    private static void Request(Span<byte> request, ushort flags, uint seq, byte family, byte ext, uint states, ReadOnlySpan<byte> sockId)
    {
        request.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], SockDiagByFamily);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], seq);
        Span<byte> req = request[HeaderSize..];
        req[0] = family;
        req[1] = IpProtoTcp;
        req[2] = ext;
        MemoryMarshal.Write(req[4..], in states);
        sockId.CopyTo(req[8..]);
    }

    private static int Send(int fd, ReadOnlySpan<byte> request)
    {
        fixed (byte* p = request)
        {
            return Libc.Send(fd, p, (nuint)request.Length, 0) == request.Length ? 0 : Marshal.GetLastPInvokeError();
        }
    }
}
