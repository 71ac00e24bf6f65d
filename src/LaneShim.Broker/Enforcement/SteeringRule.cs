// SteeringRule.cs - one router's instruction for one flow direction: packets of this 4-tuple get this mark.
using System.Net;

namespace LaneShim.Broker.Enforcement;

/// <summary>At <paramref name="Router"/>, packets from Source:SourcePort to Destination:DestinationPort take the link selected by <paramref name="Mark"/>.</summary>
public sealed record SteeringRule(string Router, string? Netns, uint Mark, IPAddress Source, int SourcePort, IPAddress Destination, int DestinationPort)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Router}: {Source}:{SourcePort} > {Destination}:{DestinationPort} mark 0x{Mark:x}";
}
