// SocketIdentity.cs - what names a TCP socket for good, from a descriptor of it: its cookie, its family and its network namespace.
using System.Runtime.InteropServices;
using System.Text;
using LaneShim.Broker.Native;

namespace LaneShim.Broker.Liveness;

/// <summary>
/// The socket cookie (SO_COOKIE: unique for the life of the kernel, so it cannot be mistaken for a later socket the
/// way a 5-tuple or a descriptor number can), the address family, and the network namespace the socket lives in
/// (SIOCGSKNS, which needs CAP_NET_ADMIN over that namespace; the socket's namespace, not its process's).
/// </summary>
internal static unsafe class SocketIdentity
{
    private const int SolSocket = 1;
    private const int SoCookie = 57;
    private const int SoDomain = 39;
    private const ulong Siocgskns = 0x894C;

    /// <summary>Reads the three; on success the caller owns <paramref name="netnsFd"/> (an nsfs descriptor to close).</summary>
    public static bool TryRead(int fd, out ulong cookie, out byte family, out int netnsFd, out NetnsId netns, out string failure)
    {
        cookie = 0;
        family = 0;
        netnsFd = -1;
        netns = default;
        ulong value = 0;
        uint length = sizeof(ulong);
        if (Libc.GetSockOpt(fd, SolSocket, SoCookie, &value, &length) != 0 || value == 0)
        {
            failure = $"SO_COOKIE: errno {Marshal.GetLastPInvokeError()}";
            return false;
        }
        int domain = 0;
        length = sizeof(int);
        if (Libc.GetSockOpt(fd, SolSocket, SoDomain, &domain, &length) != 0 || domain is not (2 or 10))
        {
            failure = $"SO_DOMAIN: not an IPv4 or IPv6 socket ({domain})";
            return false;
        }
        int ns = Libc.Ioctl(fd, Siocgskns, null);
        if (ns < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            failure = errno == 1
                ? "SIOCGSKNS: EPERM (the broker lacks CAP_NET_ADMIN over the socket's network namespace)"
                : $"SIOCGSKNS: errno {errno}";
            return false;
        }
        if (Of(ns) is not NetnsId id)
        {
            Libc.Close(ns);
            failure = "SIOCGSKNS gave a descriptor that is not a network namespace";
            return false;
        }
        cookie = value;
        family = (byte)domain;
        netnsFd = ns;
        netns = id;
        failure = "";
        return true;
    }

    /// <summary>The namespace an nsfs descriptor (or /proc/thread-self/ns/net when <paramref name="fd"/> is -1) names.</summary>
    public static NetnsId? Of(int fd)
    {
        byte* link = stackalloc byte[64];
        nint n = Libc.ReadLink(fd < 0 ? "/proc/thread-self/ns/net" : $"/proc/self/fd/{fd}", link, 64);
        return n <= 0 ? null : NetnsId.Parse(Encoding.ASCII.GetString(link, (int)n));
    }
}
