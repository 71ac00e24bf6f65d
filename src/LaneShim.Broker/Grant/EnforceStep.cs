// EnforceStep.cs - the lane in the network and on the socket: steering rules on the routers, privileged settings by the broker.
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Enforcement;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Liveness;
using LaneShim.Broker.Paths;
using LaneShim.Core.Topology;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Grant;

/// <summary>
/// Installs the lease's steering on the routers of its path (compare-and-swap on the topology version: a path from an
/// older version is recomputed, never installed) and, for a proven socket of an unprivileged program, sets FORCE
/// buffers, SO_MARK and SO_PRIORITY on it before the answer, so the SYN carries them. UNAVAILABLE when the routers
/// cannot be programmed or the topology keeps changing; DEADLINE_EXCEEDED when the caller's deadline passed meanwhile
/// (the lease is withdrawn: the agent has connected without it, and nobody would release it), unless the broker can
/// watch the connection: then it sets the lane on the socket itself and keeps the lease (EnforceStep.Late.cs). The
/// second end of a flow (<see cref="GrantContext.Joined"/>) installs no rules: the first end's cover the flow.
/// </summary>
internal sealed partial class EnforceStep(LeaseTable leases, PathService? paths, LeaseHolders holders) : IGrantStep
{
    private const int MaxInstallAttempts = 32;

    /// <inheritdoc/>
    public string Name => "enforce";

    /// <inheritdoc/>
    public async ValueTask<CallOutcome?> RunAsync(GrantContext grant)
    {
        LeaseEntry entry = grant.Entry;
        if (!grant.Joined && paths is not null && grant.Path is not null && grant.LocalEnd is { Port: > 0 } localEnd && !localEnd.Address.Equals(System.Net.IPAddress.Any)
            && grant.RemoteEnd is { Port: > 0 } remoteEnd)
        {
            CallOutcome? steered = await SteerAsync(grant, entry, paths, localEnd, remoteEnd).ConfigureAwait(false);
            if (steered is not null)
            {
                return steered;
            }
        }

        return grant.BrokerApplies && grant.Proven is { } proven ? await ApplyOnSocketAsync(grant, entry, proven).ConfigureAwait(false) : null;
    }

    private async ValueTask<CallOutcome?> SteerAsync(GrantContext grant, LeaseEntry entry, PathService paths, System.Net.IPEndPoint localEnd, System.Net.IPEndPoint remoteEnd)
    {
        LanePath path = grant.Path!;
        TimeSpan ttl = grant.LaneClass.Ttl;
        Steering steering = paths.SteeringFor(entry.Id, path, localEnd, remoteEnd, ttl);
        string computedReason = grant.Reason;
        try
        {
            // A topology that changes faster than a lane installs is retried while the caller still waits.
            for (int attempt = 1; !await paths.TryInstallAsync(steering, grant.Call.CancellationToken).ConfigureAwait(false); attempt++)
            {
                LanePath? next = paths.PathFor(localEnd.Address, remoteEnd.Address, out string why);
                if (next is null || attempt >= MaxInstallAttempts || grant.Call.Deadline < DateTime.UtcNow)
                {
                    leases.Release(entry.Id);
                    string detail = next is null
                        ? $"the topology changed while the lane was set up and now has {why}"
                        : "the topology kept changing while the lane was set up; retry";
                    return grant.Refusal("error", StatusCode.Unavailable, detail);
                }

                path = next;
                steering = paths.SteeringFor(entry.Id, path, localEnd, remoteEnd, ttl);
                entry.Grant.PathId = path.Id;
                entry.Grant.TopologyVersion = path.TopologyVersion;
                grant.Reason = computedReason + $"; recomputed on topology version {path.TopologyVersion}";
                entry.Grant.Reason = grant.Reason;
            }
        }
        catch (EnforcementException e)
        {
            await leases.ReleaseAsync(entry.Id, CancellationToken.None).ConfigureAwait(false);
            return grant.Refusal("error", StatusCode.Unavailable, $"the lane's path could not be programmed: {e.Message}",
                reason: $"enforcement failed: {e.Message}", level: LogLevel.Warning, log: $"RequestLane {grant.Who}: enforcement failed: {e.Message}");
        }

        grant.Path = path;
        if (steering.Rules.Count > 0)
        {
            entry.Grant.PerFlow = true;
            grant.Reason += $"; steered by {steering.Rules.Count} rules on {string.Join(", ", steering.Rules.Select(r => r.Router).Distinct())}";
            entry.Grant.Reason = grant.Reason;
        }

        if (grant.Expired)
        {
            // The agent has given up and connected without the lane. A watched connection keeps it (the broker sets it
            // on the socket, the kernel ends it); otherwise nobody would ever release this one.
            if (KeepLate(grant, entry) is CallOutcome late)
            {
                return late;
            }

            await leases.ReleaseAsync(entry.Id, CancellationToken.None).ConfigureAwait(false);
            await paths.RemoveAsync(entry.Id, CancellationToken.None).ConfigureAwait(false);
            return grant.Refusal("error", StatusCode.DeadlineExceeded, "the lane was ready after the caller's deadline; withdrawn",
                reason: "deadline passed while the path was programmed; withdrawn", level: LogLevel.Information,
                log: $"RequestLane {grant.Who}: the caller's deadline passed while its path was programmed; lease {Services.LaneBrokerService.ShortId(entry.Id)} withdrawn");
        }

        return null;
    }

    // FORCE buffers, SO_MARK and SO_PRIORITY go onto the caller's socket before the answer, so the SYN carries them.
    private async ValueTask<CallOutcome?> ApplyOnSocketAsync(GrantContext grant, LeaseEntry entry, ProvenSocket proven)
    {
        if (grant.Expired)
        {
            // The agent has given up and connects without the lane. A watched connection keeps it, set by the broker;
            // otherwise its socket stays as the program made it, and a lease this caller joined stays with the other end.
            if (KeepLate(grant, entry) is CallOutcome late)
            {
                return late;
            }

            await holders.WithdrawAsync(entry, grant.Holder).ConfigureAwait(false);
            return grant.Refusal("error", StatusCode.DeadlineExceeded, "the lane was ready after the caller's deadline; withdrawn before touching its socket",
                reason: "deadline passed before the broker applied its settings; withdrawn");
        }

        uint applied = proven.ApplyPrivileged(entry.Grant, out List<string> failures);
        entry.Grant.BrokerApplied = applied;
        if (applied != 0)
        {
            entry.Grant.Reason += "; applied by the broker: " + DescribeApplied(applied);
        }

        if (failures.Count > 0)
        {
            entry.Grant.Reason += "; the broker could not set " + string.Join(", ", failures);
        }

        return null;
    }

    private static string DescribeApplied(uint applied)
    {
        var names = new List<string>();
        if ((applied & ProvenSocket.AppliedSndbuf) != 0)
        {
            names.Add("SO_SNDBUFFORCE");
        }

        if ((applied & ProvenSocket.AppliedRcvbuf) != 0)
        {
            names.Add("SO_RCVBUFFORCE");
        }

        if ((applied & ProvenSocket.AppliedMark) != 0)
        {
            names.Add("SO_MARK");
        }

        if ((applied & ProvenSocket.AppliedPriority) != 0)
        {
            names.Add("SO_PRIORITY");
        }

        return string.Join(", ", names);
    }
}
