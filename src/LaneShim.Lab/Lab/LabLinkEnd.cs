// LabLinkEnd.cs - one end of a lab link: the node, its namespace, the device and its address.
namespace LaneShim.Lab.Lab;

/// <summary>Where a link ends: device <see cref="Device"/> in <see cref="Namespace"/> with <see cref="Address"/>/<see cref="PrefixLength"/>.</summary>
internal sealed record LabLinkEnd
{
    /// <summary>The node's role name: client, edgea, mbox, edgeb or server.</summary>
    public required string Node { get; init; }

    /// <summary>The network namespace the device is in.</summary>
    public required string Namespace { get; init; }

    /// <summary>The device name (veth or TUN), unique within the namespace.</summary>
    public required string Device { get; init; }

    /// <summary>The IPv4 address without prefix, e.g. 10.50.11.1.</summary>
    public required string Address { get; init; }

    /// <summary>The prefix length of the device's subnet.</summary>
    public required int PrefixLength { get; init; }

    /// <summary>"10.50.11.1/30".</summary>
    public string Cidr => $"{Address}/{PrefixLength}";
}
