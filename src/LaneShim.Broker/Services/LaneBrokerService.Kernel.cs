// LaneBrokerService.Kernel.cs - calls the broker makes on behalf of the kernel's BPF lane path (Bpf/).
namespace LaneShim.Broker.Services;

public sealed partial class LaneBrokerService
{
    /// <summary>
    /// The peer of calls the broker serves for its BPF lane path: the kernel reported the flow and its owner, so there
    /// is no descriptor to prove. Transports never produce this peer (theirs are "unix:…" or "ipv4:…").
    /// </summary>
    public const string KernelPeer = "kernel:bpf";
}
