// StateReconciler.cs - on start: load live leases from the store into the table and make enforcement match them exactly.
using System.Net;
using LaneShim.Broker.Enforcement;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Paths;
using LaneShim.Core.Topology;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Storage;

/// <summary>What a restart found and did.</summary>
/// <param name="Live">Live leases loaded (expired ones were dropped from the store).</param>
/// <param name="Steered">Of those, the leases whose steering was (re)installed.</param>
public sealed record ReconcileResult(int Live, int Steered);

/// <summary>Brings a starting broker back to its stored state.</summary>
public static class StateReconciler
{
    /// <summary>
    /// Loads live leases (the store drops expired ones), restores them into <paramref name="leases"/> with their link
    /// reservations (a shared store keeps them in the database only), records the topology version, and, with
    /// enforcement, reprograms every router so it holds exactly the rules of the live leases.
    /// </summary>
    public static async Task<ReconcileResult> ReconcileAsync(LeaseTable leases, PathService? paths, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leases);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        IReadOnlyList<LeaseEntry> live = await leases.Store.LoadLiveAsync(now, cancellationToken).ConfigureAwait(false);
        if (!leases.Store.IsShared)
        {
            leases.Restore(live);
        }

        int steered = 0;
        if (paths is not null)
        {
            SiteTopology topology = paths.Topology;
            await leases.Store.RecordTopologyAsync(topology.Version, topology.Source, now, cancellationToken).ConfigureAwait(false);
            var steerings = new List<Steering>();
            foreach (LeaseEntry entry in live)
            {
                if (SteeringOf(paths, entry, now) is Steering steering)
                {
                    steerings.Add(steering);
                }
            }
            try
            {
                await paths.ReconcileAsync(steerings, cancellationToken).ConfigureAwait(false);
                steered = steerings.Count;
            }
            catch (EnforcementException e)
            {
                // The broker still serves; rules left behind expire with their kernel timeout.
                logger.LogError("reconciling enforcement with {Count} live leases failed: {Error}", steerings.Count, e.Message);
            }
        }

        logger.LogInformation("state {Store}: {Live} live leases restored, {Steered} steered", leases.Store.Description, live.Count, steered);
        return new ReconcileResult(live.Count, steered);
    }

    // The same rules the grant installed, computed again from the flow: for the time the lease has left.
    private static Steering? SteeringOf(PathService paths, LeaseEntry entry, DateTimeOffset now)
    {
        if (entry.Flow.Direction == Direction.Listen
            || Endpoint(entry.Flow.Local) is not { Port: > 0 } local || local.Address.Equals(IPAddress.Any)
            || Endpoint(entry.Flow.Remote) is not { Port: > 0 } remote
            || paths.PathFor(local.Address, remote.Address, out _) is not LanePath path)
        {
            return null;
        }
        Steering steering = paths.SteeringFor(entry.Id, path, local, remote, entry.ExpiresAt - now);
        return steering.Rules.Count > 0 ? steering : null;
    }

    private static IPEndPoint? Endpoint(LaneShim.Protocol.V1.Endpoint? e) =>
        e is { Address.Length: 4 or 16 } && e.Port <= 65535 ? new IPEndPoint(new IPAddress(e.Address.Span), (int)e.Port) : null;
}
