// SocketTuner.cs - applies a lane grant to a socket before its SYN and reads back what the kernel kept.
using System.Text;
using LaneShim.Agent.Abi;
using LaneShim.Agent.Native;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>Turns a <see cref="LaneGrant"/> into setsockopt calls on one descriptor.</summary>
internal static unsafe class SocketTuner
{
    // LaneGrant.broker_applied bits (broker.proto): what the broker already set on this very socket.
    private const uint BrokerSndbuf = 1, BrokerRcvbuf = 2, BrokerMark = 4, BrokerPriority = 8;

    /// <summary>
    /// True when the grant may serve only the socket it was asked for: its path is steered per 5-tuple, or the broker set
    /// options on that socket that a cached copy could not give another one.
    /// </summary>
    public static bool IsForOneSocket(LaneGrant grant) => grant.PerFlow || grant.BrokerApplied != 0;

    /// <summary>
    /// Applies every setting of the grant that the host allows, except those the broker already applied on the proven
    /// socket (setting them again would fail unprivileged, or undo a forced buffer); fills <paramref name="outcome"/> from getsockopt.
    /// </summary>
    public static void Apply(int fd, int family, bool v4Mapped, LaneGrant grant, bool privileged, ref LaneshimOutcome outcome)
    {
        outcome.Applied |= Set(fd, family, v4Mapped, grant, privileged);
        ReadBack(fd, family, ref outcome);
    }

    /// <summary>The setsockopt half of <see cref="Apply"/>: returns the LANESHIM_SET_* bits of what the kernel accepted.</summary>
    public static uint Set(int fd, int family, bool v4Mapped, LaneGrant grant, bool privileged)
    {
        uint applied = 0;
        uint byBroker = grant.BrokerApplied;
        if ((byBroker & BrokerSndbuf) != 0 || ApplyBuffer(fd, grant.SndbufMode, grant.SndbufBytes, Libc.SO_SNDBUF, Libc.SO_SNDBUFFORCE, privileged))
        {
            applied |= AbiConstants.SetSndbuf;
        }
        if ((byBroker & BrokerRcvbuf) != 0 || ApplyBuffer(fd, grant.RcvbufMode, grant.RcvbufBytes, Libc.SO_RCVBUF, Libc.SO_RCVBUFFORCE, privileged))
        {
            applied |= AbiConstants.SetRcvbuf;
        }
        if (grant.Priority != 0 && (byBroker & BrokerPriority) == 0)
        {
            Libc.SetInt(fd, Libc.SOL_SOCKET, Libc.SO_PRIORITY, (int)grant.Priority); // the ABI outcome has no priority bit; best effort
        }
        if (grant.Congestion.Length > 0 && SetCongestion(fd, grant.Congestion))
        {
            applied |= AbiConstants.SetCongestion;
        }
        if (grant.PacingRate > 0 && SetPacing(fd, grant.PacingRate))
        {
            applied |= AbiConstants.SetPacing;
        }
        if (grant.Dscp > 0 && SetTos(fd, family, v4Mapped, (int)(grant.Dscp << 2)))
        {
            applied |= AbiConstants.SetTos;
        }
        if ((byBroker & BrokerMark) != 0 || (grant.Mark != 0 && privileged && Libc.SetInt(fd, Libc.SOL_SOCKET, Libc.SO_MARK, (int)grant.Mark)))
        {
            applied |= AbiConstants.SetMark;
        }
        if (grant.NotsentLowat > 0 && Libc.SetInt(fd, Libc.IPPROTO_TCP, Libc.TCP_NOTSENT_LOWAT, (int)grant.NotsentLowat))
        {
            applied |= AbiConstants.SetNotsentLowat;
        }
        return applied;
    }

    /// <summary>Copies what <see cref="ReadBack"/> filled in from one outcome to another (not the Applied bits).</summary>
    public static void CopyReadBack(in LaneshimOutcome from, ref LaneshimOutcome to)
    {
        to.Sndbuf = from.Sndbuf;
        to.Rcvbuf = from.Rcvbuf;
        to.Mark = from.Mark;
        to.Tos = from.Tos;
        to.PacingRate = from.PacingRate;
        fixed (byte* source = from.Congestion)
        fixed (byte* target = to.Congestion)
        {
            new ReadOnlySpan<byte>(source, AbiConstants.CcNameMax).CopyTo(new Span<byte>(target, AbiConstants.CcNameMax));
        }
    }

    /// <summary>Reads the settings the kernel reports for the socket into <paramref name="outcome"/>.</summary>
    public static void ReadBack(int fd, int family, ref LaneshimOutcome outcome)
    {
        outcome.Sndbuf = Libc.GetInt(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF) ?? 0;
        outcome.Rcvbuf = Libc.GetInt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF) ?? 0;
        outcome.Mark = (uint)(Libc.GetInt(fd, Libc.SOL_SOCKET, Libc.SO_MARK) ?? 0);
        outcome.Tos = (uint)(family == Libc.AF_INET6
            ? Libc.GetInt(fd, Libc.IPPROTO_IPV6, Libc.IPV6_TCLASS) ?? 0
            : Libc.GetInt(fd, Libc.IPPROTO_IP, Libc.IP_TOS) ?? 0);
        ulong rate = 0;
        uint length = sizeof(ulong);
        outcome.PacingRate = Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_MAX_PACING_RATE, &rate, &length) == 0 && rate != ulong.MaxValue && rate != uint.MaxValue
            ? rate
            : 0;
        byte* name = stackalloc byte[AbiConstants.CcNameMax];
        length = AbiConstants.CcNameMax;
        fixed (byte* cc = outcome.Congestion)
        {
            new Span<byte>(cc, AbiConstants.CcNameMax).Clear();
            if (Libc.GetSockOpt(fd, Libc.IPPROTO_TCP, Libc.TCP_CONGESTION, name, &length) == 0)
            {
                int n = new ReadOnlySpan<byte>(name, (int)Math.Min(length, AbiConstants.CcNameMax - 1)).IndexOf((byte)0);
                n = n < 0 ? (int)Math.Min(length, AbiConstants.CcNameMax - 1) : n;
                new ReadOnlySpan<byte>(name, n).CopyTo(new Span<byte>(cc, AbiConstants.CcNameMax));
            }
        }
    }

    /// <summary>The outcome as the broker's report message.</summary>
    public static SocketSettings ToSettings(in LaneshimOutcome outcome)
    {
        var settings = new SocketSettings
        {
            Sndbuf = outcome.Sndbuf,
            Rcvbuf = outcome.Rcvbuf,
            MaxPacingRate = outcome.PacingRate,
            Tos = outcome.Tos,
            Mark = outcome.Mark,
        };
        fixed (byte* cc = outcome.Congestion)
        {
            var span = new ReadOnlySpan<byte>(cc, AbiConstants.CcNameMax);
            int n = span.IndexOf((byte)0);
            settings.Congestion = Encoding.ASCII.GetString(n < 0 ? span : span[..n]);
        }
        return settings;
    }

    private static bool ApplyBuffer(int fd, BufferMode mode, long bytes, int option, int forceOption, bool privileged)
    {
        if (mode is BufferMode.Autotune or BufferMode.Unspecified || bytes <= 0)
        {
            return false;
        }
        int value = (int)Math.Min(bytes, int.MaxValue / 2);
        // FORCE only when privileged; if the kernel still says no, the plain call is capped at the sysctl.
        if (mode == BufferMode.Force && privileged && Libc.SetInt(fd, Libc.SOL_SOCKET, forceOption, value))
        {
            return true;
        }
        return Libc.SetInt(fd, Libc.SOL_SOCKET, option, value);
    }

    private static bool SetCongestion(int fd, string name)
    {
        Span<byte> bytes = stackalloc byte[AbiConstants.CcNameMax];
        int n = Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, AbiConstants.CcNameMax - 1)), bytes);
        fixed (byte* p = bytes)
        {
            return Libc.SetSockOpt(fd, Libc.IPPROTO_TCP, Libc.TCP_CONGESTION, p, (uint)n) == 0;
        }
    }

    private static bool SetPacing(int fd, ulong bytesPerSecond)
    {
        if (Libc.SetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_MAX_PACING_RATE, &bytesPerSecond, sizeof(ulong)) == 0)
        {
            return true;
        }
        uint narrow = (uint)Math.Min(bytesPerSecond, uint.MaxValue - 1); // kernels before 5.0 take 32 bits
        return Libc.SetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_MAX_PACING_RATE, &narrow, sizeof(uint)) == 0;
    }

    private static bool SetTos(int fd, int family, bool v4Mapped, int tos)
    {
        if (family == Libc.AF_INET6)
        {
            bool ok = Libc.SetInt(fd, Libc.IPPROTO_IPV6, Libc.IPV6_TCLASS, tos);
            // A v4-mapped flow sends IPv4 packets: their TOS comes from the IPv4 option.
            return v4Mapped ? Libc.SetInt(fd, Libc.IPPROTO_IP, Libc.IP_TOS, tos) || ok : ok;
        }
        return Libc.SetInt(fd, Libc.IPPROTO_IP, Libc.IP_TOS, tos);
    }
}
