// RunCgroup.cs - a cgroup the broker made for one `laneshim run --bpf` command, and where its process came from.
namespace LaneShim.Broker.Bpf;

/// <summary>A run cgroup under the broker's scope.</summary>
/// <param name="Directory">Its cgroup v2 directory.</param>
/// <param name="Origin">The cgroup the process was in, where it goes back if the broker stops first.</param>
/// <param name="Uid">Who asked.</param>
internal sealed record RunCgroup(string Directory, string Origin, uint Uid);
