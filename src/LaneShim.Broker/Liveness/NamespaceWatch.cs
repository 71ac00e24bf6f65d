// NamespaceWatch.cs - the watcher's hold on one network namespace: its nsfs descriptor, a query socket and a destroy-event socket made inside it.
using LaneShim.Broker.Native;

namespace LaneShim.Broker.Liveness;

/// <summary>
/// Kept while any watched socket lives in the namespace and closed with the last (the netlink sockets keep the
/// namespace alive, so a container's namespace is not pinned longer than its lanes). Opened on the watcher's thread.
/// </summary>
internal sealed class NamespaceWatch(NetnsId id, int nsFd, long created)
{
    public NetnsId Id { get; } = id;

    /// <summary>The nsfs descriptor setns() enters the namespace by; -1 once closed.</summary>
    public int NsFd { get; private set; } = nsFd;

    /// <summary>Dumps and lookups; -1 until opened.</summary>
    public int QueryFd { get; set; } = -1;

    /// <summary>Subscribed to the TCP destroy groups; -1 until opened, or when subscribing was refused (then checks alone decide).</summary>
    public int EventFd { get; set; } = -1;

    /// <summary>When the record was made (Stopwatch ticks): a failed namespace is tried again after a while.</summary>
    public long Created { get; } = created;

    /// <summary>Why the namespace cannot be watched; null while it can (or before it was tried).</summary>
    public string? Failure { get; set; }

    /// <summary>The sockets watched in it, by cookie (one socket may be watched for more than one lease).</summary>
    public Dictionary<ulong, List<WatchedSocket>> Sockets { get; } = [];

    /// <summary>The next periodic check (Stopwatch ticks).</summary>
    public long NextCheck { get; set; }

    /// <summary>When its tables were last dumped (Stopwatch ticks), or 0.</summary>
    public long LastDump { get; set; }

    /// <summary>An earlier check asked for (a holder released), or 0.</summary>
    public long SoonCheck { get; set; }

    public bool Open => QueryFd >= 0;

    public void Close()
    {
        foreach (int fd in new[] { QueryFd, EventFd, NsFd })
        {
            if (fd >= 0)
            {
                Libc.Close(fd);
            }
        }
        QueryFd = EventFd = NsFd = -1;
    }
}
