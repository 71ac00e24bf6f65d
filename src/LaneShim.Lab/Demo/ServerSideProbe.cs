// ServerSideProbe.cs - watches the server's end of a laneshim run while it lasts: its sockets (ss in the server
// namespace) and the broker's leases, so the run can say what the kernel and the broker held for the server.
using Grpc.Core;
using LaneShim.Grpc;
using LaneShim.Lab.Lab;
using LaneShim.Protocol.V1;

namespace LaneShim.Lab.Demo;

/// <summary>
/// Samples every <see cref="Interval"/> on a thread of its own: the server namespace's established sockets to the
/// client (the last sample of each is kept: sockets vanish when the run ends) and, for each, the grant of the server's
/// end in the broker's leases (a lease ends with its connection, so it is read while it lives).
/// </summary>
internal sealed class ServerSideProbe : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);
    private readonly DemoContext _context;
    private readonly bool _wrapped;
    private readonly Dictionary<string, ServerSocket> _sockets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServerGrant> _grants = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    private ServerSideProbe(DemoContext context, bool wrapped)
    {
        _context = context;
        _wrapped = wrapped;
        _thread = new Thread(Run) { IsBackground = true, Name = "demo-server-probe" };
        _thread.Start();
    }

    /// <summary>Starts sampling for a run whose server is (or is not) <paramref name="wrapped"/>.</summary>
    public static ServerSideProbe Start(DemoContext context, bool wrapped) => new(context, wrapped);

    /// <summary>Stops sampling; the busiest socket seen and its end's grant.</summary>
    public ServerSide Stop()
    {
        _stop.Cancel();
        _thread.Join();
        lock (_sockets)
        {
            ServerSocket? data = _sockets.Values.OrderByDescending(s => s.Moved).FirstOrDefault();
            return new ServerSide(_wrapped, data, data is not null && _grants.TryGetValue(Key(data.Local, data.Peer), out ServerGrant? g) ? g : null);
        }
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested)
        {
            Stop();
        }
        _stop.Dispose();
    }

    private void Run()
    {
        using BrokerChannel broker = BrokerChannel.Open(BrokerAddress.Parse($"unix:{_context.BrokerSocket}"));
        string ss = LabTools.Find("ss", "iproute2");
        do
        {
            ToolOutput r = LabTools.Run(_context.Ip, ["netns", "exec", _context.Lab.Namespaces.Server, ss, "-tnmiH", "state", "established", "dst", _context.Lab.ClientAddress],
                deadline: Deadline);
            IReadOnlyList<ServerSocket> seen = r.ExitCode == 0 ? ServerSocket.Parse(r.Stdout) : [];
            IReadOnlyList<Lease> leases = [];
            if (seen.Count > 0)
            {
                try
                {
                    leases = broker.Call((c, o) => c.ListLeases(new ListLeasesRequest(), o), Deadline).Leases;
                }
                catch (RpcException)
                {
                    // the broker's own log says why; the sockets still count
                }
            }
            lock (_sockets)
            {
                foreach (ServerSocket s in seen)
                {
                    string key = Key(s.Local, s.Peer);
                    _sockets[key] = s;
                    // The connection's own grant, once seen, is not replaced by the listener's.
                    if (ServerGrant(leases, s) is ServerGrant grant && !(_grants.TryGetValue(key, out ServerGrant? known) && known.By == "connection"))
                    {
                        _grants[key] = grant;
                    }
                }
            }
        }
        while (!_stop.Token.WaitHandle.WaitOne(Interval));
    }

    // The grant of the lease holder that is the server's end (inbound) of this socket's connection; failing that (the
    // accepted socket's own ask did not make its deadline), the grant of the listening socket it was accepted from,
    // whose lane the kernel copies into every socket it accepts (cc, send buffer, pacing).
    private static ServerGrant? ServerGrant(IReadOnlyList<Lease> leases, ServerSocket socket)
    {
        string key = Key(socket.Local, socket.Peer);
        foreach (Lease lease in leases)
        {
            if (Key(Describe(lease.Flow.Local), Describe(lease.Flow.Remote)) == key
                && lease.Holders.FirstOrDefault(h => h.Direction == Direction.Inbound)?.Grant is LaneGrant own)
            {
                return new ServerGrant(own, "connection");
            }
        }
        string port = socket.Local[(socket.Local.LastIndexOf(':') + 1)..];
        Lease? listener = leases.FirstOrDefault(l => l.Flow.Direction == Direction.Listen && l.Flow.Local.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) == port);
        return listener is null ? null : new ServerGrant(listener.Grant, "listener");
    }

    // Both ends in a fixed order: the client's view of a connection and the server's are one key.
    private static string Key(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? $"{a} {b}" : $"{b} {a}";

    private static string Describe(Endpoint? endpoint)
    {
        if (endpoint is not { Address.Length: 4 or 16 } e)
        {
            return "";
        }
        var address = new System.Net.IPAddress(e.Address.Span);
        return new System.Net.IPEndPoint(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, (int)e.Port).ToString();
    }
}
