// BrokerServer.cs - a running broker: policy, lease table and LaneBroker service behind a gRPC host.
using LaneShim.Broker.Audit;
using LaneShim.Broker.Bpf;
using LaneShim.Broker.Enforcement;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Hosting;
using LaneShim.Broker.Paths;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Liveness;
using LaneShim.Broker.Services;
using LaneShim.Broker.Telemetry;
using LaneShim.Broker.Storage;
using LaneShim.Core;
using LaneShim.Core.Topology;
using Google.Protobuf;
using Grpc.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker;

/// <summary>Wires <see cref="BrokerOptions"/> into a <see cref="LaneBrokerService"/> served by a <see cref="BrokerHost"/>.</summary>
public sealed class BrokerServer : IAsyncDisposable
{
    private static readonly TimeSpan WarmUpDeadline = TimeSpan.FromSeconds(10);
    private readonly BrokerHost _host;
    private readonly string? _ownedDirectory;
    private readonly Timer _sweeper;
    private readonly MetricsEndpoint? _metrics;
    private readonly BrokerOptions _options;
    private readonly ILogger _logger;

    private readonly AuditLog? _audit;
    private readonly ConnectionWatcher? _watcher;
    private readonly BpfLanePath? _bpf;

    private BrokerServer(BrokerHost host, LaneBrokerService service, string? ownedDirectory, ILogger logger, MetricsEndpoint? metrics, BrokerOptions options, AuditLog? audit,
        ConnectionWatcher? watcher, BpfLanePath? bpf)
    {
        _audit = audit;
        _watcher = watcher;
        _bpf = bpf;
        _host = host;
        _metrics = metrics;
        _options = options;
        _logger = logger;
        Service = service;
        _ownedDirectory = ownedDirectory;
        // Expired leases leave the table, and their steering the network, even when nobody asks.
        _sweeper = new Timer(_ => Sweep(service, logger), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Where clients reach this broker (unix:/path or http://host:port).</summary>
    public BrokerAddress Address => _host.Address;

    /// <summary>Where /metrics is served, or null.</summary>
    public Uri? MetricsUrl => _metrics?.Url;

    /// <summary>The service, for in-process inspection.</summary>
    public LaneBrokerService Service { get; }

    /// <summary>The kernel lane path, when the broker runs one.</summary>
    public BpfLanePath? Bpf => _bpf;

    /// <summary>Loads the policy (throws <see cref="PolicyException"/>), then listens.</summary>
    /// <param name="ownedDirectory">A directory made for this broker's socket, deleted when it stops.</param>
    public static async Task<BrokerServer> StartAsync(BrokerAddress listen, BrokerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken, string? ownedDirectory = null)
    {
        Policy policy = options.LoadPolicy();
        TlsListenerOptions? tls = BrokerTls.Load(listen, options);
        SiteTopology? topology = options.LoadTopology();
        ILeaseStore store = options.Store ?? await LeaseStores.OpenAsync(options.State, cancellationToken).ConfigureAwait(false);
        AuditLog? audit = options.AuditFile is null ? null : AuditLog.Open(options.AuditFile);
        PathService? paths = topology is null ? null : new PathService(topology, CreateBackend(options.Enforcement, loggers), options.PathMetric, loggers.CreateLogger<PathService>());
        var leases = new LeaseTable(TimeProvider.System, options.MaxLeases, store);
        // Before listening: no request may see a half-restored table or race the routers' reprogramming.
        await StateReconciler.ReconcileAsync(leases, paths, loggers.CreateLogger<BrokerServer>(), cancellationToken).ConfigureAwait(false);
        // Proven sockets are what the watcher follows: without the proof there is nothing to watch.
        ConnectionWatcher? watcher = options.ProveSockets ? new ConnectionWatcher(loggers.CreateLogger<ConnectionWatcher>()) : null;
        var service = new LaneBrokerService(
            new PolicyStore(policy),
            leases,
            new RttLearner(TimeProvider.System),
            loggers.CreateLogger<LaneBrokerService>(),
            options.PathId,
            paths,
            new BrokerTelemetry(TimeProvider.System),
            watcher)
        {
            Security = new BrokerSecurity { RequireIdentity = true, ProveSockets = options.ProveSockets, Audit = audit },
            ReserveLinks = options.LinkAdmission,
        };
        System.Net.IPEndPoint? metricsAt = null;
        if (options.MetricsUrl is not null && !MetricsEndpoint.TryParse(options.MetricsUrl, out metricsAt, out string metricsError))
        {
            throw new ArgumentException($"--metrics {options.MetricsUrl}: {metricsError}");
        }
        BpfLanePath? bpf = null;
        BrokerHost host;
        try
        {
            // The kernel path starts before the listener: a connect report is served by the same grant path as a request.
            bpf = options.Bpf is null ? null : BpfLanePath.Start(options.Bpf, service.Policies, new ServiceKernelFlowGrants(service), loggers.CreateLogger<BpfLanePath>());
            var scope = new BpfScopeService(() => bpf, loggers.CreateLogger<BpfScopeService>());
            host = await BrokerHost.StartAsync(listen, service, new BrokerHostOptions { Tls = tls, Services = [scope] }, loggers, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            watcher?.Dispose();
            if (bpf is not null)
            {
                await bpf.DisposeAsync().ConfigureAwait(false);
            }
            if (audit is not null)
            {
                await audit.DisposeAsync().ConfigureAwait(false);
            }
            await store.DisposeAsync().ConfigureAwait(false);

            throw;
        }

        MetricsEndpoint? metrics = null;
        try
        {
            if (tls is null)
            {
                // A TLS listener cannot call itself without a client certificate; its first call pays the warm-up.
                await WarmUpAsync(host.Address, cancellationToken).ConfigureAwait(false);
            }
            paths?.WarmUp();
            if (metricsAt is not null)
            {
                metrics = await MetricsEndpoint.StartAsync(metricsAt, () => service.Telemetry.Metrics.Render(service.Leases, service.Paths) + bpf?.RenderMetrics(), loggers, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            if (bpf is not null)
            {
                await bpf.DisposeAsync().ConfigureAwait(false);
            }
            await host.DisposeAsync().ConfigureAwait(false);
            watcher?.Dispose();
            if (audit is not null)
            {
                await audit.DisposeAsync().ConfigureAwait(false);
            }
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new BrokerServer(host, service, ownedDirectory, loggers.CreateLogger<BrokerServer>(), metrics, options, audit, watcher, bpf);
    }

    /// <summary>
    /// SIGHUP: reads the policy file again and swaps it in (a file with a mistake is refused with file:line in the log
    /// and the running policy stays), then reloads the topology (<see cref="ReloadTopologyAsync"/>). Leases already
    /// granted keep their class until they end. Returns whether the policy was reloaded (false in flag mode, which has
    /// no file, or when refused).
    /// </summary>
    public async Task<bool> ReloadAsync(CancellationToken cancellationToken)
    {
        bool policy = false;
        if (_options.PolicyFile is not null)
        {
            if (Service.Policies.TryReload(_options.LoadPolicy, out string? error))
            {
                _logger.LogInformation("policy reloaded from {File}", _options.PolicyFile);
                policy = true;
            }
            else
            {
                _logger.LogError("policy reload refused, keeping the running policy: {Error}", error);
            }
        }
        await ReloadTopologyAsync(cancellationToken).ConfigureAwait(false);
        return policy;
    }

    /// <summary>
    /// Reads the topology file again (SIGHUP) and makes it the next version. A file with a mistake is refused with
    /// file:line and the running topology stays. Returns false when there is nothing to reload or it was refused.
    /// </summary>
    public async Task<bool> ReloadTopologyAsync(CancellationToken cancellationToken)
    {
        if (Service.Paths is not { } paths)
        {
            return false;
        }
        SiteTopology? next;
        try
        {
            next = _options.LoadTopology();
        }
        catch (Exception e) when (e is TopologyException or IOException or UnauthorizedAccessException)
        {
            _logger.LogError("topology reload refused, keeping version {Version}: {Error}", paths.Topology.Version, e.Message);
            return false;
        }
        if (next is null)
        {
            return false;
        }
        await paths.ReplaceTopologyAsync(next, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The enforcement backend by its flag name.</summary>
    public static IEnforcementBackend CreateBackend(string name, ILoggerFactory loggers) => name switch
    {
        "linux-router" => new LinuxRouterBackend(loggers.CreateLogger<LinuxRouterBackend>()),
        "dry-run" => new DryRunBackend(loggers.CreateLogger<DryRunBackend>()),
        _ => throw new ArgumentException($"unknown enforcement backend '{name}' (linux-router, dry-run)"),
    };

    private static void Sweep(LaneBrokerService service, ILogger logger)
    {
        try
        {
            SweepOnce(service);
        }
        catch (Exception e)
        {
            logger.LogError(e, "lease sweep failed; retrying in a second");
        }
    }

    private static void SweepOnce(LaneBrokerService service)
    {
        service.Leases.RemoveExpired();
        if (service.Paths is not { } paths)
        {
            return;
        }
        foreach (string leaseId in paths.Installed.Keys)
        {
            if (service.Leases.Find(leaseId) is null)
            {
                paths.RemoveAsync(leaseId, CancellationToken.None).GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>
    /// Serves one request to itself over the real socket before anyone else asks, so the first
    /// agent's call (20 ms deadline) does not pay for compiling the request path.
    /// </summary>
    private static async Task WarmUpAsync(BrokerAddress address, CancellationToken cancellationToken)
    {
        var request = new LaneRequest
        {
            Flow = new Flow
            {
                Local = new Endpoint { Address = ByteString.CopyFrom(192, 0, 2, 1), Port = 9 },
                Remote = new Endpoint { Address = ByteString.CopyFrom(192, 0, 2, 2), Port = 9 },
                Direction = Direction.Outbound,
                Protocol = 6,
            },
            Program = new LaneShim.Protocol.V1.Program { Path = "/laneshim/warm-up", Pid = (uint)Environment.ProcessId },
        };
        // A real socket of our own, so the warm-up also runs the socket proof (pidfd_getfd on ourselves).
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        request.Flow.Local = new Endpoint { Address = ByteString.CopyFrom(127, 0, 0, 1), Port = (uint)((System.Net.IPEndPoint)socket.LocalEndPoint!).Port };
        request.Program.Fd = (int)socket.Handle;
        using var broker = BrokerChannel.Open(address);
        LaneBroker.LaneBrokerClient client = broker.Client;
        try
        {
            LaneGrant grant = await client.RequestLaneAsync(request, deadline: DateTime.UtcNow + WarmUpDeadline, cancellationToken: cancellationToken).ConfigureAwait(false);
            await client.ReleaseLaneAsync(new ReleaseRequest { LeaseId = grant.LeaseId }, deadline: DateTime.UtcNow + WarmUpDeadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // a policy that denies the made-up flow warms the same path
        }
        try
        {
            await client.ListLeasesAsync(new ListLeasesRequest(), deadline: DateTime.UtcNow + WarmUpDeadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // With thousands of leases restored from the store the list outgrows one message; the path is warm anyway.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        if (_bpf is not null)
        {
            // First: its leases end and their rules leave the routers while the store is still open.
            await _bpf.DisposeAsync().ConfigureAwait(false);
        }
        if (_metrics is not null)
        {
            await _metrics.DisposeAsync().ConfigureAwait(false);
        }
        await _host.DisposeAsync().ConfigureAwait(false);
        _watcher?.Dispose();
        if (_audit is not null)
        {
            // After the host: calls in flight have logged their decisions; every queued line reaches the file.
            await _audit.DisposeAsync().ConfigureAwait(false);
        }

        await Service.Leases.Store.DisposeAsync().ConfigureAwait(false);
        if (_ownedDirectory is not null)
        {
            try
            {
                Directory.Delete(_ownedDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
