// BrokerSecurity.cs - what the LaneBroker service demands of callers: an identity, a proven socket, an audit trail.
using LaneShim.Broker.Audit;

namespace LaneShim.Broker.Identity;

/// <summary>
/// The service's security settings. <see cref="Default"/> (what <see cref="BrokerServer"/> uses) grants only to
/// identified callers and proves every local caller's socket; <see cref="InProcess"/> trusts in-process callers
/// (tests that call the handlers directly) and proves nothing.
/// </summary>
public sealed class BrokerSecurity
{
    /// <summary>Anonymous callers get nothing; local sockets are proven.</summary>
    public static BrokerSecurity Default { get; } = new() { RequireIdentity = true, ProveSockets = true };

    /// <summary>No identity required, no proof: for handlers called in-process.</summary>
    public static BrokerSecurity InProcess { get; } = new();

    /// <summary>A call that neither SO_PEERCRED nor mutual TLS identifies is PERMISSION_DENIED.</summary>
    public bool RequireIdentity { get; init; }

    /// <summary>A local caller's socket must be proven with pidfd_getfd before a grant (and then carries broker-applied settings).</summary>
    public bool ProveSockets { get; init; }

    /// <summary>Where every decision is written; null for nowhere.</summary>
    public AuditLog? Audit { get; init; }
}
