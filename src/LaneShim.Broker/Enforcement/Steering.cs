// Steering.cs - everything one lease installs on the network, so it can be removed exactly.
using LaneShim.Core.Topology;

namespace LaneShim.Broker.Enforcement;

/// <summary>A lease's path and the router rules that pin its flow to it, in both directions.</summary>
public sealed record Steering(string LeaseId, LanePath Path, IReadOnlyList<SteeringRule> Rules, TimeSpan Ttl);
