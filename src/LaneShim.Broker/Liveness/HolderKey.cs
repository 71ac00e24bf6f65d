// HolderKey.cs - names one holder of one lease: what the connection watcher carries for each socket it follows.
namespace LaneShim.Broker.Liveness;

/// <summary>Holder <paramref name="Holder"/> (an index into <see cref="Leases.LeaseEntry.Holders"/>) of lease <paramref name="LeaseId"/>.</summary>
internal readonly record struct HolderKey(string LeaseId, int Holder);
