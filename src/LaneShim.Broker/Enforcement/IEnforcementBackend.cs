// IEnforcementBackend.cs - how a broker programs the network for a lane; Linux routers today, an SDN controller later.
namespace LaneShim.Broker.Enforcement;

/// <summary>
/// Installs and removes a lease's steering. Implementations must be idempotent (install twice, remove twice)
/// and should make rules expire on their own after <see cref="Steering.Ttl"/>, so a dead broker leaves nothing
/// behind for long. An SDN-controller backend maps <see cref="Steering.Path"/> to a controller path request
/// and <see cref="Steering.Rules"/> to flow matches.
/// </summary>
public interface IEnforcementBackend
{
    /// <summary>Short name for logs and flags: "linux-router", "dry-run".</summary>
    string Name { get; }

    /// <summary>Programs every router of the path; throws <see cref="EnforcementException"/> when one fails (after undoing the others).</summary>
    Task InstallAsync(Steering steering, CancellationToken cancellationToken);

    /// <summary>Extends the rules' lifetime to a new TTL.</summary>
    Task RenewAsync(Steering steering, CancellationToken cancellationToken);

    /// <summary>Removes exactly the rules of this steering; missing rules are not an error.</summary>
    Task RemoveAsync(Steering steering, CancellationToken cancellationToken);

    /// <summary>
    /// Makes these routers hold exactly the rules of <paramref name="live"/> (each for its <see cref="Steering.Ttl"/>):
    /// rules not backed by one of them go, missing ones are installed. A broker calls it on start, after loading its
    /// leases, so rules of leases that expired while it was down disappear and live ones are back.
    /// </summary>
    Task ReconcileAsync(IReadOnlyCollection<(string Router, string? Netns)> routers, IReadOnlyList<Steering> live, CancellationToken cancellationToken);

    /// <summary>Gets ready to program these routers (name, namespace) so the first lane pays no setup; failures are only logged.</summary>
    void Prepare(IEnumerable<(string Router, string? Netns)> routers);
}
