// WatchedSocket.cs - one connection end the watcher follows in the kernel, and what it knows of it so far.
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Liveness;

/// <summary>
/// A TCP socket followed by its cookie in its network namespace. <see cref="Owner"/> is what the watcher's user
/// attached (a lease and holder). Fields change only under the watcher's lock.
/// </summary>
public sealed class WatchedSocket
{
    internal WatchedSocket(ulong cookie, byte family, NetnsId netns, object owner, long since)
    {
        Cookie = cookie;
        Family = family;
        Netns = netns;
        Owner = owner;
        Since = since;
    }

    /// <summary>SO_COOKIE of the socket.</summary>
    public ulong Cookie { get; }

    /// <summary>AF_INET or AF_INET6.</summary>
    public byte Family { get; }

    /// <summary>The network namespace the socket lives in.</summary>
    public NetnsId Netns { get; }

    /// <summary>What the watcher's user attached.</summary>
    public object Owner { get; }

    /// <summary>Its struct inet_diag_sockid (5-tuple and cookie) to look it up by; null until known.</summary>
    internal byte[]? SockId { get; set; }

    /// <summary>When watching began (Stopwatch ticks).</summary>
    internal long Since { get; }

    /// <summary>A check found it held by some process at least once.</summary>
    internal bool SeenHeld { get; set; }

    /// <summary>A check found it connected (any state but CLOSE): from then on CLOSE means its connection ended.</summary>
    internal bool SeenConnected { get; set; }

    /// <summary>Its asking process released it: not finding it is then enough to call it gone, seen before or not.</summary>
    internal bool Released { get; set; }

    /// <summary>When a check first found it orphaned (Stopwatch ticks), or 0: it gets a moment for its destroy event.</summary>
    internal long OrphanSince { get; set; }

    /// <summary>The latest statistics its holders sent (a release), for when the kernel's last word is missed.</summary>
    internal FlowStats? LastStats { get; set; }

    /// <summary>No longer watched: gone, unwatched, or its namespace could not be opened.</summary>
    internal bool Done { get; set; }

    /// <summary>"cookie N in net:[I]", for logs.</summary>
    public override string ToString() => $"cookie {Cookie} in {Netns}";
}
