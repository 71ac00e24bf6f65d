// TopologyVersion.cs - one topology version a broker ran with, as the store remembers it.
namespace LaneShim.Broker.Storage;

/// <summary>Topology <paramref name="Version"/> from <paramref name="Source"/>, first in force at <paramref name="LoadedAt"/>.</summary>
public sealed record TopologyVersion(long Version, string Source, DateTimeOffset LoadedAt);
