// LabSteering.cs - how a flow is moved to the bypass: an nftables set in each edge router marks it, an ip rule routes the mark.
namespace LaneShim.Lab.Lab;

/// <summary>
/// What the broker's Linux-router backend programs: elements of <see cref="Family"/> <see cref="Table"/> set
/// <see cref="Set"/> (saddr . sport . daddr . dport) in each of <see cref="Routers"/>; the chain marks matching
/// packets <see cref="Mark"/>/<see cref="Mask"/>, and `ip rule fwmark` sends them to table <see cref="RouteTable"/> (path 2).
/// </summary>
internal sealed record LabSteering
{
    /// <summary>Namespaces of the routers to program, edgea then edgeb.</summary>
    public required IReadOnlyList<string> Routers { get; init; }

    /// <summary>The nftables family ("inet").</summary>
    public required string Family { get; init; }

    /// <summary>The nftables table in each router ("laneshim").</summary>
    public required string Table { get; init; }

    /// <summary>IPv4 5-tuple set: type ipv4_addr . inet_service . ipv4_addr . inet_service, flags timeout.</summary>
    public required string Set { get; init; }

    /// <summary>The mark the chain sets on a matching packet (0x1).</summary>
    public required uint Mark { get; init; }

    /// <summary>The mask of the fwmark rule (0x1).</summary>
    public required uint Mask { get; init; }

    /// <summary>The routing table of path 2 (100).</summary>
    public required int RouteTable { get; init; }

    /// <summary>The priority of the `ip rule fwmark` (100).</summary>
    public required int RulePriority { get; init; }
}
