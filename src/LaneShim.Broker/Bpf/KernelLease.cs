// KernelLease.cs - a kernel-reported flow the broker holds a lease for: which lease, the flow, and when to renew it.
namespace LaneShim.Broker.Bpf;

/// <summary>A live kernel-path lease, keyed by socket cookie in <see cref="BpfLanePath"/>.</summary>
/// <param name="LeaseId">The lease.</param>
/// <param name="Flow">The report it was granted for.</param>
/// <param name="ExpiresAt">When it expires unless renewed.</param>
/// <param name="RenewedAt">When it was granted or last renewed.</param>
internal sealed record KernelLease(string LeaseId, KernelFlow Flow, DateTimeOffset ExpiresAt, DateTimeOffset RenewedAt);
