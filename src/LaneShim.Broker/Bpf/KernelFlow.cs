// KernelFlow.cs - a flow the kernel reported (connect or accept): the request the grant path decides, and its owner.
using LaneShim.Broker.Identity;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Bpf;

/// <summary>
/// A connect or accept report from the lane path's ring buffer, as the grant path takes it: the request an agent
/// would have sent for the flow, and the process that made the socket as the kernel noted it at socket().
/// </summary>
/// <param name="Request">The flow (full 5-tuple), the program (path from /proc, pid, uid, gid; no descriptor) and the host's limits.</param>
/// <param name="Owner">The socket's creator, from the kernel: the lease belongs to this uid.</param>
/// <param name="Cookie">The socket cookie.</param>
public sealed record KernelFlow(LaneRequest Request, PeerCredentials Owner, ulong Cookie);
