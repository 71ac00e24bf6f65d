// BrokerServer.cs - a running broker: policy, lease table and LaneBroker service behind a gRPC host.
using LaneShim.Broker.Enforcement;
using LaneShim.Broker.Hosting;
using LaneShim.Broker.Paths;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Services;
using LaneShim.Broker.Storage;
using LaneShim.Core;
using LaneShim.Core.Topology;
using Google.Protobuf;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker;

/// <summary>Wires <see cref="BrokerOptions"/> into a <see cref="LaneBrokerService"/> served by a <see cref="GrpcHost"/>.</summary>
public sealed class BrokerServer : IAsyncDisposable
{
    private static readonly TimeSpan WarmUpDeadline = TimeSpan.FromSeconds(10);
    private readonly GrpcHost _host;
    private readonly string? _ownedDirectory;
    private readonly Timer _sweeper;

    private BrokerServer(GrpcHost host, LaneBrokerService service, string? ownedDirectory, ILogger logger)
    {
        _host = host;
        Service = service;
        _ownedDirectory = ownedDirectory;
        // Expired leases leave the table, and their steering the network, even when nobody asks.
        _sweeper = new Timer(_ => Sweep(service, logger), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Where clients reach this broker (unix:/path or http://host:port).</summary>
    public BrokerAddress Address => _host.Address;

    /// <summary>The service, for in-process inspection.</summary>
    public LaneBrokerService Service { get; }

    /// <summary>Loads the policy (throws <see cref="PolicyException"/>), then listens.</summary>
    /// <param name="ownedDirectory">A directory made for this broker's socket, deleted when it stops.</param>
    public static async Task<BrokerServer> StartAsync(BrokerAddress listen, BrokerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken, string? ownedDirectory = null)
    {
        Policy policy = options.LoadPolicy();
        SiteTopology? topology = options.LoadTopology();
        ILeaseStore store = options.Store ?? await LeaseStores.OpenAsync(options.State, cancellationToken).ConfigureAwait(false);
        PathService? paths = topology is null ? null : new PathService(topology, CreateBackend(options.Enforcement, loggers), options.PathMetric, loggers.CreateLogger<PathService>());
        var leases = new LeaseTable(TimeProvider.System, options.MaxLeases, store);
        // Before listening: no request may see a half-restored table or race the routers' reprogramming.
        await StateReconciler.ReconcileAsync(leases, paths, loggers.CreateLogger<BrokerServer>(), cancellationToken).ConfigureAwait(false);
        var service = new LaneBrokerService(
            new PolicyStore(policy),
            leases,
            new RttLearner(TimeProvider.System),
            loggers.CreateLogger<LaneBrokerService>(),
            options.PathId,
            paths)
        {
            ReserveLinks = options.LinkAdmission,
        };
        GrpcHost host = await GrpcHost.StartAsync(listen, service.Bind(new GrpcServiceDefinition()), loggers, cancellationToken).ConfigureAwait(false);
        await WarmUpAsync(host.Address, cancellationToken).ConfigureAwait(false);
        paths?.WarmUp();
        return new BrokerServer(host, service, ownedDirectory, loggers.CreateLogger<BrokerServer>());
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
        using var client = new LaneBrokerClient(address);
        try
        {
            LaneGrant grant = await client.RequestLaneAsync(request, WarmUpDeadline, cancellationToken).ConfigureAwait(false);
            await client.ReleaseLaneAsync(new ReleaseRequest { LeaseId = grant.LeaseId }, WarmUpDeadline, cancellationToken).ConfigureAwait(false);
        }
        catch (GrpcException)
        {
            // a policy that denies the made-up flow warms the same path
        }
        try
        {
            await client.ListLeasesAsync(new ListLeasesRequest(), WarmUpDeadline, cancellationToken).ConfigureAwait(false);
        }
        catch (GrpcException)
        {
            // With thousands of leases restored from the store the list outgrows one message; the path is warm anyway.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        await _host.DisposeAsync().ConfigureAwait(false);
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
