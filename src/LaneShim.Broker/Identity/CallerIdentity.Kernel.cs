// CallerIdentity.Kernel.cs - the caller of a grant the kernel asked for: the BPF lane path's connect report.
namespace LaneShim.Broker.Identity;

public sealed partial record CallerIdentity
{
    /// <summary>The peer of every kernel-reported call, for logs and the audit record.</summary>
    public const string KernelPeer = "kernel:bpf";

    /// <summary>
    /// True when the kernel reported the socket (the BPF lane path's sock_ops program at connect or accept) rather
    /// than a process asking: <see cref="Local"/> is the socket's creator as the kernel noted it at socket(), and
    /// there is no descriptor to prove, so admission skips the socket proof.
    /// </summary>
    public bool KernelReported { get; private init; }

    /// <summary>The socket owner of a flow the kernel reported: its leases belong to <paramref name="owner"/>.</summary>
    public static CallerIdentity ReportedByKernel(PeerCredentials owner) =>
        new() { Local = owner, Peer = KernelPeer, KernelReported = true };
}
