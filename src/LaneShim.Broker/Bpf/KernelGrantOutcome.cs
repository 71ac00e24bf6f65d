// KernelGrantOutcome.cs - what the grant path answered for a kernel-reported flow: a grant, or a typed refusal.
using Grpc.Core;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Bpf;

/// <summary>A grant, or the status an agent would have received.</summary>
/// <param name="Grant">The grant (with its lease id), or null when refused.</param>
/// <param name="Status">OK, or why not (PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE, …).</param>
/// <param name="Detail">The refusal's message.</param>
public sealed record KernelGrantOutcome(LaneGrant? Grant, StatusCode Status, string Detail);
