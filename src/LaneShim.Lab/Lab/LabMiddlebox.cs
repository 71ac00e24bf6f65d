// LabMiddlebox.cs - the campus firewall on path 1 and the nftables counters that show what it forwarded.
namespace LaneShim.Lab.Lab;

/// <summary>The middlebox's nftables table and its named counters (all forwarded packets; new flows).</summary>
internal sealed record LabMiddlebox
{
    /// <summary>The middlebox's network namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>"firewall".</summary>
    public required string Type { get; init; }

    /// <summary>The nftables family of its table ("inet").</summary>
    public required string Family { get; init; }

    /// <summary>The nftables table that holds the counters ("mbox").</summary>
    public required string Table { get; init; }

    /// <summary>Named counter of every packet the middlebox forwards.</summary>
    public required string ForwardedCounter { get; init; }

    /// <summary>Named counter of the first packet of each new flow.</summary>
    public required string NewFlowsCounter { get; init; }
}
