// BpfEvent.cs - struct laneshim_bpf_event: one ring-buffer record (connect, accept, listen, verdict or close).
using System.Net;
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Bpf;

/// <summary>A record from the program's ring buffer.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct BpfEvent
{
    /// <summary>Event kind.</summary>
    public uint Kind;

    /// <summary>Event flags.</summary>
    public uint Flags;

    /// <summary>The socket cookie: one flow's key for its whole life.</summary>
    public ulong Cookie;

    /// <summary>Reserved (cgroup id).</summary>
    public ulong CgroupId;

    /// <summary>Local address, IPv6 (IPv4 mapped).</summary>
    public fixed byte Local[16];

    /// <summary>Remote address, IPv6 (IPv4 mapped).</summary>
    public fixed byte Remote[16];

    /// <summary>Local port.</summary>
    public ushort LocalPort;

    /// <summary>Remote port.</summary>
    public ushort RemotePort;

    /// <summary>AF_INET or AF_INET6.</summary>
    public uint Family;

    /// <summary>The process that made the socket.</summary>
    public uint Pid;

    /// <summary>Its uid.</summary>
    public uint Uid;

    /// <summary>Its gid.</summary>
    public uint Gid;

    /// <summary>The class the kernel applied, or -1.</summary>
    public int ClassIndex;

    /// <summary>The rule that matched, or -1.</summary>
    public int RuleIndex;

    /// <summary>Applied bits.</summary>
    public uint Applied;

    /// <summary>Lane options user space set.</summary>
    public uint UserSet;

    /// <summary>Close: smoothed RTT, µs.</summary>
    public uint SrttUs;

    /// <summary>Close: minimum RTT, µs.</summary>
    public uint MinRttUs;

    /// <summary>Close: retransmitted segments.</summary>
    public uint TotalRetrans;

    /// <summary>Close: congestion window, segments.</summary>
    public uint SndCwnd;

    /// <summary>Close: MSS.</summary>
    public uint Mss;

    /// <summary>Close: segments delivered in the last rate sample.</summary>
    public uint RateDelivered;

    /// <summary>Close: that sample's interval, µs.</summary>
    public uint RateIntervalUs;

    /// <summary>Close: segments sent.</summary>
    public uint SegsOut;

    /// <summary>Close: data segments sent.</summary>
    public uint DataSegsOut;

    /// <summary>Close: bytes acknowledged.</summary>
    public ulong BytesAcked;

    /// <summary>Close: bytes received.</summary>
    public ulong BytesReceived;

    /// <summary>Close: ns from connect (or accept) to close.</summary>
    public ulong DurationNs;

    /// <summary>The task's comm when it made the socket.</summary>
    public fixed byte Comm[BpfLayout.CommLength];

    /// <summary>The local end (IPv4 unmapped).</summary>
    public readonly IPEndPoint LocalEndPoint
    {
        get
        {
            fixed (byte* p = Local)
            {
                return new IPEndPoint(Unmap(new ReadOnlySpan<byte>(p, 16)), LocalPort);
            }
        }
    }

    /// <summary>The remote end (IPv4 unmapped).</summary>
    public readonly IPEndPoint RemoteEndPoint
    {
        get
        {
            fixed (byte* p = Remote)
            {
                return new IPEndPoint(Unmap(new ReadOnlySpan<byte>(p, 16)), RemotePort);
            }
        }
    }

    /// <summary>The comm as text.</summary>
    public readonly string CommText
    {
        get
        {
            fixed (byte* p = Comm)
            {
                var span = new ReadOnlySpan<byte>(p, BpfLayout.CommLength);
                int end = span.IndexOf((byte)0);
                return System.Text.Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
            }
        }
    }

    private static IPAddress Unmap(ReadOnlySpan<byte> bytes)
    {
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
