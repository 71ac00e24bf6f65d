// ConnectionWatcher.cs - follows connection ends in the kernel (sock_diag), in whatever network namespace they live,
// and says when one is gone: its socket destroyed, orphaned (no process holds a file of it), or no longer there.
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Native;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Liveness;

/// <summary>
/// One thread of its own watches every namespace that holds a watched socket, with two NETLINK_SOCK_DIAG sockets made
/// inside it (setns on this thread, then back): one subscribed to the TCP destroy groups, so a freed socket is known
/// at once with its final TCP_INFO, and one for a dump of the namespace's connections every <see cref="CheckInterval"/>
/// (and <see cref="AfterRelease"/> after a holder released), which catches what the events cannot say: a connection
/// every process has closed (inode 0, still sending its last bytes) or one that vanished while events were lost.
/// </summary>
/// <remarks>
/// A socket is gone when: a destroy event names its cookie; dumps show it without a file (orphaned: every process
/// closed it, the kernel still sends its last bytes) for <see cref="OrphanWait"/>; or a dump does not show it (TIME_WAIT
/// is not dumped) and it was seen before, was released, or has been watched for <see cref="UnseenGrace"/> (an outbound
/// socket is asked for before connect(): kernels before 6.6 show no bound-only sockets in a dump), or it is back in
/// CLOSE after it was seen connected. Events are raised on the watcher's thread: handlers must not block.
/// </remarks>
public sealed unsafe class ConnectionWatcher : IDisposable
{
    /// <summary>How often each namespace with watched sockets is dumped.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>How soon after a release its namespace is dumped: the releasing process closes its descriptor right after the answer.</summary>
    public static readonly TimeSpan AfterRelease = TimeSpan.FromMilliseconds(20);

    /// <summary>How long a socket no dump has shown may still be on its way to connect().</summary>
    public static readonly TimeSpan UnseenGrace = TimeSpan.FromSeconds(2);

    /// <summary>How long an orphan found by a check may take to be destroyed (its event carries the final TCP_INFO) before it is called gone anyway.</summary>
    internal static readonly TimeSpan OrphanWait = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan RetryFailed = TimeSpan.FromSeconds(30);
    private const int CloneNewNet = 0x40000000;
    private const int ORdonly = 0, OCloexec = 0x80000;
    private const int EfdCloexec = 0x80000, EfdNonblock = 0x800;
    private const int SolSocket = 1, SoRcvbuf = 8, SoRcvtimeo = 20, SoRcvbufForce = 33;
    private const int MsgDontwait = 0x40;
    private const int Enobufs = 105;

    private readonly Lock _lock = new();
    private readonly Dictionary<NetnsId, NamespaceWatch> _namespaces = [];
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly byte[] _buffer = new byte[64 * 1024]; // the watcher thread's alone
    private readonly int _wake;
    private volatile bool _stopping;
    private volatile bool _stranded; // the thread could not return to its own namespace: it opens no more
    private readonly Lazy<NetnsId?> _home = new(() => SocketIdentity.Of(-1)); // the broker's own namespace
    private uint _seq;

    /// <summary>Starts the watcher's thread.</summary>
    public ConnectionWatcher(ILogger<ConnectionWatcher> logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        _wake = Libc.EventFd(0, EfdCloexec | EfdNonblock);
        if (_wake < 0)
        {
            throw new InvalidOperationException($"eventfd: errno {Marshal.GetLastPInvokeError()}");
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "laneshim-liveness" };
        _thread.Start();
    }

    /// <summary>A watched socket's connection is gone, with its last statistics when known, and how it was found gone.</summary>
    public event Action<WatchedSocket, FlowStats?, string>? Gone;

    /// <summary>A socket cannot be watched after all (its namespace could not be entered), with the reason.</summary>
    public event Action<WatchedSocket, string>? Unwatchable;

    /// <summary>After each check of a namespace: the sockets a process still holds there.</summary>
    public event Action<IReadOnlyList<WatchedSocket>>? Held;

    /// <summary>Sockets watched now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _namespaces.Values.Sum(n => n.Sockets.Values.Sum(l => l.Count));
            }
        }
    }

    /// <summary>Namespaces held open now (with their netlink sockets).</summary>
    public int Namespaces
    {
        get
        {
            lock (_lock)
            {
                return _namespaces.Values.Count(n => n.Open);
            }
        }
    }

    /// <summary>
    /// Starts watching the socket a descriptor of which is <paramref name="fd"/> (the broker's duplicate; it may be
    /// closed as soon as this returns). Null, with the reason, when the socket cannot be watched. <paramref name="local"/>
    /// and <paramref name="remote"/> are the flow's ends as its caller named them: an outbound socket asked for before
    /// connect() has no peer and may be bound to the wildcard address yet, and with them it can be looked up at once.
    /// </summary>
    public WatchedSocket? Watch(int fd, object owner, out string failure, IPEndPoint? local = null, IPEndPoint? remote = null)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (!SocketIdentity.TryRead(fd, out ulong cookie, out byte family, out int nsFd, out NetnsId netns, out failure))
        {
            return null;
        }
        byte[]? sockId = SockIdOf(fd, family, cookie, local, remote);
        long now = Stopwatch.GetTimestamp();
        WatchedSocket? socket = null;
        bool created = false;
        lock (_lock)
        {
            if (_namespaces.TryGetValue(netns, out NamespaceWatch? ns) && ns.Failure is not null && Stopwatch.GetElapsedTime(ns.Created, now) >= RetryFailed)
            {
                _namespaces.Remove(netns); // failed a while ago: try it again
                ns = null;
            }
            if (ns?.Failure is string refused)
            {
                failure = refused;
            }
            else if (ns is null && CannotEnter(netns) is string cannot)
            {
                // Known now, not after the grant: a grant says lease_follows_connection only for what will be watched.
                failure = cannot;
            }
            else
            {
                if (ns is null)
                {
                    ns = new NamespaceWatch(netns, nsFd, now);
                    _namespaces[netns] = ns;
                    created = true;
                }
                socket = new WatchedSocket(cookie, family, netns, owner, now) { SockId = sockId };
                if (!ns.Sockets.TryGetValue(cookie, out List<WatchedSocket>? same))
                {
                    ns.Sockets[cookie] = same = [];
                }
                same.Add(socket);
            }
        }
        if (!created)
        {
            Libc.Close(nsFd);
        }
        else
        {
            Wake();
        }
        return socket;
    }

    // Why the watcher's thread could not enter this (new) namespace, when that is known without trying: it is not the
    // broker's own and the broker lacks CAP_SYS_ADMIN, or the thread is stranded. Null when it may be entered.
    private string? CannotEnter(NetnsId netns)
    {
        if (_home.Value is NetnsId home && home == netns)
        {
            return null;
        }
        if (_stranded)
        {
            return "the watcher's thread is stranded in another namespace";
        }
        return BrokerPrivilege.HasSysAdmin ? null : "setns: entering another network namespace needs CAP_SYS_ADMIN";
    }

    // The socket's own names where it has them, the caller's where it has not (yet).
    private static byte[]? SockIdOf(int fd, byte family, ulong cookie, IPEndPoint? local, IPEndPoint? remote)
    {
        IPEndPoint? bound = SocketProof.ReadName(fd, peer: false, out _);
        IPEndPoint? peer = SocketProof.ReadName(fd, peer: true, out _) ?? remote;
        if (bound is null || peer is null || bound.Port == 0 || peer.Port == 0)
        {
            return null;
        }
        if (bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any))
        {
            if (local is null || local.Address.Equals(IPAddress.Any) || local.Address.Equals(IPAddress.IPv6Any))
            {
                return null;
            }
            bound = new IPEndPoint(local.Address, bound.Port);
        }
        return SockDiag.SockId(family, bound, peer, cookie);
    }

    /// <summary>Stops watching (its lease ended some other way).</summary>
    public void Unwatch(WatchedSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (_lock)
        {
            Drop(socket);
        }
    }

    /// <summary>
    /// The socket's asking process released it, with the statistics it sent: its namespace is checked
    /// <see cref="AfterRelease"/> from now, and from then on not finding it is enough to call it gone.
    /// </summary>
    public void Released(WatchedSocket socket, FlowStats? stats)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (_lock)
        {
            if (socket.Done)
            {
                return;
            }
            socket.Released = true;
            socket.LastStats = stats ?? socket.LastStats;
            if (_namespaces.TryGetValue(socket.Netns, out NamespaceWatch? ns))
            {
                long at = Stopwatch.GetTimestamp() + (long)(AfterRelease.TotalSeconds * Stopwatch.Frequency);
                ns.SoonCheck = ns.SoonCheck == 0 ? at : Math.Min(ns.SoonCheck, at);
            }
        }
        Wake();
    }

    /// <summary>Stops the thread and closes every namespace's sockets.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        Wake();
        _thread.Join(TimeSpan.FromSeconds(5));
        lock (_lock)
        {
            foreach (NamespaceWatch ns in _namespaces.Values)
            {
                ns.Close();
            }
            _namespaces.Clear();
        }
        Libc.Close(_wake);
    }

    private void Wake()
    {
        ulong one = 1;
        Libc.Write(_wake, &one, sizeof(ulong));
    }

    // Callers hold _lock.
    private void Drop(WatchedSocket socket)
    {
        socket.Done = true;
        if (_namespaces.TryGetValue(socket.Netns, out NamespaceWatch? ns) && ns.Sockets.TryGetValue(socket.Cookie, out List<WatchedSocket>? same))
        {
            same.Remove(socket);
            if (same.Count == 0)
            {
                ns.Sockets.Remove(socket.Cookie);
            }
        }
    }

    private void Run()
    {
        int home = Libc.Open("/proc/thread-self/ns/net", ORdonly | OCloexec);
        NetnsId? homeId = SocketIdentity.Of(home);
        while (!_stopping)
        {
            try
            {
                OpenAndClose(home, homeId);
                WaitAndRead();
                CheckDue();
            }
            catch (Exception e)
            {
                _logger.LogError(e, "connection watcher: a round failed; the next one goes on");
                Thread.Sleep(CheckInterval);
            }
        }
        if (home >= 0)
        {
            Libc.Close(home);
        }
    }

    // Namespaces nobody watches in any more are closed; new ones are entered and their sockets made.
    private void OpenAndClose(int home, NetnsId? homeId)
    {
        var pending = new List<NamespaceWatch>();
        var unused = new List<NamespaceWatch>();
        lock (_lock)
        {
            foreach (NamespaceWatch ns in _namespaces.Values)
            {
                if (ns.Sockets.Count == 0 && ns.Failure is null)
                {
                    unused.Add(ns);
                }
                else if (!ns.Open && ns.Failure is null)
                {
                    pending.Add(ns);
                }
            }
            foreach (NamespaceWatch ns in unused)
            {
                _namespaces.Remove(ns.Id);
            }
        }
        foreach (NamespaceWatch ns in unused)
        {
            ns.Close();
        }
        foreach (NamespaceWatch ns in pending)
        {
            string? failure = TryOpen(ns, home, homeId);
            var stranded = new List<WatchedSocket>();
            lock (_lock)
            {
                if (failure is null)
                {
                    ns.NextCheck = Stopwatch.GetTimestamp();
                    continue;
                }
                ns.Failure = failure;
                foreach (WatchedSocket s in ns.Sockets.Values.SelectMany(l => l))
                {
                    s.Done = true;
                    stranded.Add(s);
                }
                ns.Sockets.Clear();
            }
            ns.Close();
            _logger.LogWarning("cannot watch connections in network namespace {Netns}: {Failure}; lanes there end at their release or lease expiry", ns.Id, failure);
            foreach (WatchedSocket s in stranded)
            {
                Unwatchable?.Invoke(s, failure);
            }
        }
    }

    // On this thread: enter the namespace (unless it is the broker's own), make both sockets, come back.
    private string? TryOpen(NamespaceWatch ns, int home, NetnsId? homeId)
    {
        if (_stranded)
        {
            return "the watcher's thread is stranded in another namespace";
        }
        bool enter = homeId != ns.Id;
        if (enter && (home < 0 || Libc.SetNs(ns.NsFd, CloneNewNet) != 0))
        {
            int errno = home < 0 ? 0 : Marshal.GetLastPInvokeError();
            return errno == 1 ? "setns: EPERM (entering another network namespace needs CAP_SYS_ADMIN)" : $"setns: errno {errno}";
        }
        int query, events;
        try
        {
            query = Libc.Socket(SockDiag.AfNetlink, SockDiag.SockRaw | SockDiag.SockCloexec, SockDiag.NetlinkSockDiag);
            events = query < 0 ? -1 : Libc.Socket(SockDiag.AfNetlink, SockDiag.SockRaw | SockDiag.SockCloexec | SockDiag.SockNonblock, SockDiag.NetlinkSockDiag);
        }
        finally
        {
            if (enter && Libc.SetNs(home, CloneNewNet) != 0)
            {
                _stranded = true;
                _logger.LogCritical("connection watcher: cannot return to the broker's network namespace (errno {Errno}); watching no new namespaces", Marshal.GetLastPInvokeError());
            }
        }
        if (query < 0)
        {
            return $"socket(AF_NETLINK, NETLINK_SOCK_DIAG): errno {Marshal.GetLastPInvokeError()}";
        }
        ns.QueryFd = query;
        long* timeout = stackalloc long[2] { 1, 0 }; // struct timeval: a dump never blocks the watcher longer than 1 s
        Libc.SetSockOpt(query, SolSocket, SoRcvtimeo, timeout, 16);
        ns.EventFd = Subscribe(events, ns.Id);
        return null;
    }

    // Joins the TCP destroy groups; -1 (and a note) when the kernel refuses: then the periodic dumps alone decide.
    private int Subscribe(int fd, NetnsId netns)
    {
        if (fd < 0)
        {
            return -1;
        }
        byte* address = stackalloc byte[12];
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = SockDiag.AfNetlink;
        int group1 = SockDiag.GroupTcpDestroy, group3 = SockDiag.GroupTcp6Destroy;
        if (Libc.Bind(fd, address, 12) != 0
            || Libc.SetSockOpt(fd, SockDiag.SolNetlink, SockDiag.NetlinkAddMembership, &group1, sizeof(int)) != 0
            || Libc.SetSockOpt(fd, SockDiag.SolNetlink, SockDiag.NetlinkAddMembership, &group3, sizeof(int)) != 0)
        {
            _logger.LogInformation("connection watcher: no TCP destroy events in {Netns} (errno {Errno}); ended connections are found by the checks every {Interval} s",
                netns, Marshal.GetLastPInvokeError(), CheckInterval.TotalSeconds);
            Libc.Close(fd);
            return -1;
        }
        // Room for bursts: every TCP socket freed in the namespace sends a message, not only the watched ones.
        int size = 4 << 20;
        if (Libc.SetSockOpt(fd, SolSocket, SoRcvbufForce, &size, sizeof(int)) != 0)
        {
            Libc.SetSockOpt(fd, SolSocket, SoRcvbuf, &size, sizeof(int));
        }
        return fd;
    }

    // Sleeps until the next check is due, a destroy event arrives, or someone wakes the thread; reads the events.
    private void WaitAndRead()
    {
        List<NamespaceWatch> listening;
        long due;
        lock (_lock)
        {
            listening = _namespaces.Values.Where(n => n.EventFd >= 0).ToList();
            due = _namespaces.Values.Where(n => n.Open && n.Sockets.Count > 0)
                .Select(n => n.SoonCheck != 0 ? Math.Min(n.SoonCheck, n.NextCheck) : n.NextCheck)
                .DefaultIfEmpty(Stopwatch.GetTimestamp() + (long)(CheckInterval.TotalSeconds * Stopwatch.Frequency)).Min();
        }
        long waitTicks = due - Stopwatch.GetTimestamp();
        int timeoutMs = waitTicks <= 0 ? 0 : (int)Math.Min(CheckInterval.TotalMilliseconds, Math.Ceiling(waitTicks * 1000.0 / Stopwatch.Frequency));
        var fds = new PollFd[listening.Count + 1];
        fds[0] = new PollFd { Fd = _wake, Events = PollFd.In };
        for (int i = 0; i < listening.Count; i++)
        {
            fds[i + 1] = new PollFd { Fd = listening[i].EventFd, Events = PollFd.In };
        }
        fixed (PollFd* p = fds)
        {
            if (Libc.Poll(p, (nuint)fds.Length, timeoutMs) <= 0)
            {
                return;
            }
        }
        if (fds[0].Revents != 0)
        {
            ulong count;
            Libc.Read(_wake, &count, sizeof(ulong));
        }
        for (int i = 0; i < listening.Count; i++)
        {
            if (fds[i + 1].Revents != 0)
            {
                ReadEvents(listening[i]);
            }
        }
    }

    // Destroy events: each names a freed socket by cookie, with its final TCP_INFO.
    private void ReadEvents(NamespaceWatch ns)
    {
        var gone = new List<(WatchedSocket Socket, FlowStats? Stats)>();
        while (true)
        {
            nint n;
            fixed (byte* p = _buffer)
            {
                n = Libc.Recv(ns.EventFd, p, (nuint)_buffer.Length, MsgDontwait);
            }
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Enobufs)
                {
                    // Events were dropped: a dump now finds whatever ended meanwhile.
                    lock (_lock)
                    {
                        ns.SoonCheck = Stopwatch.GetTimestamp();
                    }
                    continue;
                }
                break;
            }
            SockDiag.ParseAll(_buffer.AsSpan(0, (int)n), entry =>
            {
                lock (_lock)
                {
                    if (ns.Sockets.Remove(entry.Cookie, out List<WatchedSocket>? sockets))
                    {
                        foreach (WatchedSocket s in sockets)
                        {
                            s.Done = true;
                            gone.Add((s, entry.Stats ?? s.LastStats));
                        }
                    }
                }
            });
        }
        foreach ((WatchedSocket s, FlowStats? stats) in gone)
        {
            Gone?.Invoke(s, stats, "destroyed");
        }
    }

    private void CheckDue()
    {
        long now = Stopwatch.GetTimestamp();
        List<NamespaceWatch> due;
        lock (_lock)
        {
            due = _namespaces.Values.Where(n => n.Open && n.Sockets.Count > 0 && (n.NextCheck <= now || (n.SoonCheck != 0 && n.SoonCheck <= now))).ToList();
        }
        foreach (NamespaceWatch ns in due)
        {
            Check(ns);
        }
    }

    // Each watched socket is looked up by its sockid and cookie (a hash lookup, with its TCP_INFO); only sockets whose
    // sockid is not known yet, or that a lookup cannot find though never seen, need a dump of the namespace's tables
    // (milliseconds whatever the number of sockets: the walk covers every hash bucket), at most once per interval
    // unless a released one is among them.
    private void Check(NamespaceWatch ns)
    {
        List<WatchedSocket> watched;
        long now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            ns.SoonCheck = 0;
            ns.NextCheck = now + (long)(CheckInterval.TotalSeconds * Stopwatch.Frequency);
            watched = ns.Sockets.Values.SelectMany(l => l).ToList();
        }
        var found = new Dictionary<WatchedSocket, DiagEntry?>();
        var unresolved = new List<WatchedSocket>();
        foreach (WatchedSocket s in watched)
        {
            byte[]? id;
            bool seen;
            lock (_lock)
            {
                id = s.SockId;
                seen = s.SeenConnected; // a bound-only socket is in no table a lookup searches
            }
            DiagEntry? entry = null;
            int errno = -1;
            if (id is not null)
            {
                entry = SockDiag.Lookup(ns.QueryFd, s.Family, id, ++_seq, _buffer, out errno);
            }
            if (entry is not null || (seen && errno == SockDiag.Enoent))
            {
                found[s] = entry;
            }
            else
            {
                unresolved.Add(s);
            }
        }
        if (unresolved.Count > 0 && (unresolved.Any(s => s.Released) || Stopwatch.GetElapsedTime(ns.LastDump, now) >= CheckInterval))
        {
            ns.LastDump = now;
            var byCookie = unresolved.GroupBy(s => s.Cookie).ToDictionary(g => g.Key, g => g.ToList());
            var dumped = new Dictionary<ulong, DiagEntry>();
            foreach (byte family in unresolved.Select(s => s.Family).Distinct())
            {
                int errno = SockDiag.Dump(ns.QueryFd, family, SockDiag.ConnectionStates, ++_seq, _buffer, e =>
                {
                    if (byCookie.ContainsKey(e.Cookie))
                    {
                        dumped[e.Cookie] = e;
                    }
                });
                if (errno != 0)
                {
                    _logger.LogWarning("connection watcher: dump of {Netns} failed (errno {Errno}); trying again in {Interval} s", ns.Id, errno, CheckInterval.TotalSeconds);
                    dumped = null;
                    break;
                }
            }
            foreach (WatchedSocket s in dumped is null ? [] : unresolved)
            {
                found[s] = dumped!.GetValueOrDefault(s.Cookie);
            }
        }
        Judge(ns, found, now);
    }

    // What each looked-up or dumped socket's entry (null: the kernel has none) means.
    private void Judge(NamespaceWatch ns, Dictionary<WatchedSocket, DiagEntry?> found, long now)
    {
        var gone = new List<(WatchedSocket Socket, string How)>();
        var held = new List<WatchedSocket>();
        lock (_lock)
        {
            foreach ((WatchedSocket s, DiagEntry? entry) in found)
            {
                if (s.Done)
                {
                    continue;
                }
                if (entry is not null)
                {
                    s.LastStats = entry.Stats ?? s.LastStats;
                    if (entry.State != DiagEntry.Close)
                    {
                        s.SockId = entry.SockId; // connected: its sockid has the real addresses to look it up by
                    }
                }
                if (entry is null)
                {
                    if (s.SeenHeld || s.Released || s.OrphanSince != 0 || Stopwatch.GetElapsedTime(s.Since, now) >= UnseenGrace)
                    {
                        gone.Add((s, "closed"));
                    }
                }
                else if (entry.State == DiagEntry.TimeWait)
                {
                    gone.Add((s, "time-wait"));
                }
                else if (entry.Held && !(entry.State == DiagEntry.Close && s.SeenConnected))
                {
                    s.SeenHeld = true;
                    s.SeenConnected |= entry.State != DiagEntry.Close;
                    held.Add(s);
                }
                else if (entry.Held)
                {
                    gone.Add((s, "closed")); // reset or aborted: the file is open, the connection is not
                }
                else if (s.OrphanSince == 0)
                {
                    // Every holder closed it; the kernel is still finishing. Its destroy event (with the final TCP_INFO)
                    // gets OrphanWait to come; otherwise the last TCP_INFO a lookup read is the one reported.
                    s.OrphanSince = now;
                    ns.SoonCheck = now + (long)(OrphanWait.TotalSeconds * Stopwatch.Frequency);
                }
                else if (Stopwatch.GetElapsedTime(s.OrphanSince, now) >= OrphanWait)
                {
                    gone.Add((s, "orphaned"));
                }
            }
            foreach ((WatchedSocket s, _) in gone)
            {
                Drop(s);
            }
        }
        foreach ((WatchedSocket s, string how) in gone)
        {
            Gone?.Invoke(s, s.LastStats, how);
        }
        if (held.Count > 0)
        {
            Held?.Invoke(held);
        }
    }
}
