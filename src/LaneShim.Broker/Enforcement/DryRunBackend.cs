// DryRunBackend.cs - enforcement that only logs (and remembers) what it would program.
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Enforcement;

/// <summary>Logs each rule; <see cref="Active"/> holds what would be installed now.</summary>
public sealed class DryRunBackend(ILogger<DryRunBackend> logger) : IEnforcementBackend
{
    private readonly ConcurrentDictionary<string, Steering> _active = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public string Name => "dry-run";

    /// <summary>Steerings installed and not removed, by lease id.</summary>
    public IReadOnlyDictionary<string, Steering> Active => _active;

    /// <inheritdoc/>
    public Task InstallAsync(Steering steering, CancellationToken cancellationToken)
    {
        _active[steering.LeaseId] = steering;
        foreach (SteeringRule rule in steering.Rules)
        {
            logger.LogDebug("dry-run: install {Rule} for {Ttl}", rule, steering.Ttl);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task RenewAsync(Steering steering, CancellationToken cancellationToken)
    {
        logger.LogDebug("dry-run: renew {Lease} for {Ttl}", steering.LeaseId, steering.Ttl);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task ReconcileAsync(IReadOnlyCollection<(string Router, string? Netns)> routers, IReadOnlyList<Steering> live, CancellationToken cancellationToken)
    {
        _active.Clear();
        foreach (Steering steering in live)
        {
            _active[steering.LeaseId] = steering;
        }
        logger.LogInformation("dry-run: reconcile {Routers} routers to {Count} live leases", routers.Count, live.Count);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public void Prepare(IEnumerable<(string Router, string? Netns)> routers)
    {
    }

    /// <inheritdoc/>
    public Task RemoveAsync(Steering steering, CancellationToken cancellationToken)
    {
        _active.TryRemove(steering.LeaseId, out _);
        foreach (SteeringRule rule in steering.Rules)
        {
            logger.LogDebug("dry-run: remove {Rule}", rule);
        }
        return Task.CompletedTask;
    }
}
