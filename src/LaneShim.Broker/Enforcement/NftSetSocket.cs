// NftSetSocket.cs - adds and deletes elements of one nftables set over netlink, inside a router's network namespace.
// A netlink socket belongs to the namespace it was created in, so it is created on a thread that has joined the
// router's namespace and then serves from any thread: programming a router costs one sendmsg, not a process.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using LaneShim.Broker.Native;

namespace LaneShim.Broker.Enforcement;

/// <summary>One NETLINK_NETFILTER socket in a namespace, bound to table <c>inet TABLE</c>, set <c>SET</c>.</summary>
internal sealed class NftSetSocket : IDisposable
{
    private const int AF_NETLINK = 16;
    private const int SOCK_RAW = 3;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int NETLINK_NETFILTER = 12;
    private const int CLONE_NEWNET = 0x40000000;
    private const int O_RDONLY = 0, O_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1, SO_RCVTIMEO = 20;

    private const ushort NLM_F_REQUEST = 0x1, NLM_F_ACK = 0x4, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400;
    private const ushort NLMSG_ERROR = 0x2;
    private const ushort NFNL_MSG_BATCH_BEGIN = 0x10, NFNL_MSG_BATCH_END = 0x11;
    private const int NFNL_SUBSYS_NFTABLES = 10;
    private const int NFT_MSG_NEWSETELEM = 12, NFT_MSG_DELSETELEM = 14;
    private const byte NFPROTO_INET = 1;
    private const ushort NLA_F_NESTED = 0x8000;
    private const ushort NFTA_SET_ELEM_LIST_TABLE = 1, NFTA_SET_ELEM_LIST_SET = 2, NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    private const ushort NFTA_LIST_ELEM = 1;
    private const ushort NFTA_SET_ELEM_KEY = 1, NFTA_SET_ELEM_TIMEOUT = 4;
    private const ushort NFTA_DATA_VALUE = 1;
    private const int ENOENT = 2;

    private readonly object _gate = new();
    private readonly string _table;
    private readonly string _set;
    private int _fd;
    private uint _seq = (uint)Environment.TickCount;

    private NftSetSocket(int fd, string table, string set)
    {
        _fd = fd;
        _table = table;
        _set = set;
    }

    /// <summary>One change to the set: add (with a timeout) or delete an element; a delete with an empty key flushes the set.</summary>
    /// <param name="Exclusive">Fail with EEXIST instead of doing nothing when the element is already there.</param>
    public readonly record struct Change(byte[] Key, bool Delete, ulong TimeoutMs, bool Exclusive = false);

    /// <summary>Opens a socket in namespace /run/netns/<paramref name="netns"/> (null: this process's namespace).</summary>
    public static NftSetSocket Open(string? netns, string table, string set)
    {
        int fd = -1;
        int errno = 0;
        string? failure = null;
        var thread = new Thread(() =>
        {
            int home = -1, target = -1;
            try
            {
                if (netns is not null)
                {
                    home = Libc.Open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                    target = Libc.Open($"/run/netns/{netns}", O_RDONLY | O_CLOEXEC);
                    if (home < 0 || target < 0 || Libc.SetNs(target, CLONE_NEWNET) != 0)
                    {
                        errno = Marshal.GetLastPInvokeError();
                        failure = $"cannot enter network namespace {netns}";
                        return;
                    }
                }
                fd = Libc.Socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
                if (fd < 0)
                {
                    errno = Marshal.GetLastPInvokeError();
                    failure = "cannot open a netfilter netlink socket";
                }
            }
            finally
            {
                // This thread ends here; going home anyway keeps it honest should it ever be pooled.
                if (home >= 0)
                {
                    Libc.SetNs(home, CLONE_NEWNET);
                    Libc.Close(home);
                }
                if (target >= 0)
                {
                    Libc.Close(target);
                }
            }
        })
        { IsBackground = true, Name = "laneshim-netns" };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new EnforcementException($"{failure}: errno {errno}");
        }
        unsafe
        {
            long* timeout = stackalloc long[2] { 1, 0 }; // struct timeval: never wait more than 1 s for an answer
            Libc.SetSockOpt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);
        }
        return new NftSetSocket(fd, table, set);
    }

    /// <summary>
    /// The set key of (saddr . sport . daddr . dport) for IPv4: each field is padded to 4 bytes, as nftables lays
    /// out a concatenation in registers; ports in network order.
    /// </summary>
    public static byte[] Ipv4FlowKey(ReadOnlySpan<byte> source, int sourcePort, ReadOnlySpan<byte> destination, int destinationPort)
    {
        var key = new byte[16];
        source.CopyTo(key.AsSpan(0, 4));
        BinaryPrimitives.WriteUInt16BigEndian(key.AsSpan(4, 2), (ushort)sourcePort);
        destination.CopyTo(key.AsSpan(8, 4));
        BinaryPrimitives.WriteUInt16BigEndian(key.AsSpan(12, 2), (ushort)destinationPort);
        return key;
    }

    /// <summary>Applies all changes in one atomic netlink batch; throws <see cref="EnforcementException"/> with the kernel's errno.</summary>
    public void Apply(IReadOnlyList<Change> changes)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            uint first = unchecked(_seq += (uint)changes.Count + 2);
            byte[] message = Batch(changes, first);
            unsafe
            {
                fixed (byte* p = message)
                {
                    if (Libc.Send(_fd, p, (nuint)message.Length, 0) != message.Length)
                    {
                        throw new EnforcementException($"netlink send failed: errno {Marshal.GetLastPInvokeError()}");
                    }
                }
            }
            ReadAcks(first + 1, changes.Count);
        }
    }

    private byte[] Batch(IReadOnlyList<Change> changes, uint seq)
    {
        var w = new NetlinkWriter();
        w.Begin(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES);
        w.End();
        for (int i = 0; i < changes.Count; i++)
        {
            Change c = changes[i];
            ushort type = (ushort)((NFNL_SUBSYS_NFTABLES << 8) | (c.Delete ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM));
            ushort flags = (ushort)(NLM_F_REQUEST | NLM_F_ACK | (c.Delete ? 0 : NLM_F_CREATE) | (c.Exclusive ? NLM_F_EXCL : 0));
            w.Begin(type, flags, seq + 1 + (uint)i, NFPROTO_INET, 0);
            w.String(NFTA_SET_ELEM_LIST_TABLE, _table);
            w.String(NFTA_SET_ELEM_LIST_SET, _set);
            if (c.Delete && c.Key.Length == 0)
            {
                // DELSETELEM without an element list removes every element (what `nft flush set` sends).
                w.End();
                continue;
            }
            int elements = w.Nest(NFTA_SET_ELEM_LIST_ELEMENTS);
            int element = w.Nest(NFTA_LIST_ELEM);
            int key = w.Nest(NFTA_SET_ELEM_KEY);
            w.Bytes(NFTA_DATA_VALUE, c.Key);
            w.EndNest(key);
            if (!c.Delete && c.TimeoutMs > 0)
            {
                w.UInt64BigEndian(NFTA_SET_ELEM_TIMEOUT, c.TimeoutMs);
            }
            w.EndNest(element);
            w.EndNest(elements);
            w.End();
        }
        w.Begin(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq + 1 + (uint)changes.Count, 0, NFNL_SUBSYS_NFTABLES);
        w.End();
        return w.ToArray();
    }

    private unsafe void ReadAcks(uint firstSeq, int count)
    {
        var buffer = new byte[8192];
        int acked = 0;
        string? error = null;
        int errno = 0;
        // A failed message aborts the batch: the kernel reports it and may skip the other acks.
        while (acked < count && error is null)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.Recv(_fd, p, (nuint)buffer.Length, 0);
            }
            if (n <= 0)
            {
                throw new EnforcementException($"netlink: no answer from the kernel (errno {Marshal.GetLastPInvokeError()})");
            }
            for (int off = 0; off + 16 <= n;)
            {
                int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(off));
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(off + 4));
                uint seq = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(off + 8));
                if (len < 16 || off + len > n)
                {
                    break;
                }
                if (type == NLMSG_ERROR && seq >= firstSeq && seq < firstSeq + count)
                {
                    int code = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(off + 16));
                    if (code == 0)
                    {
                        acked++;
                    }
                    else
                    {
                        errno = -code;
                        error = $"netlink: change {seq - firstSeq + 1} of {count} to set {_table}/{_set} failed: errno {-code}{(-code == ENOENT ? " (no such table or set: is the router's laneshim table loaded?)" : "")}";
                    }
                }
                off += (len + 3) & ~3;
            }
        }
        if (error is not null)
        {
            throw new EnforcementException(error) { Errno = errno };
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_fd >= 0)
            {
                Libc.Close(_fd);
                _fd = -1;
            }
        }
    }
}
