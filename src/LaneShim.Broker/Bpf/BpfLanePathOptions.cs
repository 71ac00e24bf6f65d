// BpfLanePathOptions.cs - how a broker runs the kernel lane path: where its object and loader are, which cgroups.
namespace LaneShim.Broker.Bpf;

/// <summary>Settings of the BPF lane path (<c>laneshim broker --bpf</c>).</summary>
public sealed class BpfLanePathOptions
{
    /// <summary>The directory holding <c>laneshim.bpf.o</c> and <c>liblaneshim-bpf.so</c>.</summary>
    public required string LibraryDirectory { get; init; }

    /// <summary>
    /// Cgroups the site names (e.g. the slice its DTN services run in), relative to the cgroup v2 root or absolute
    /// under it. The broker also attaches to a cgroup of its own, where <c>laneshim run --bpf</c> puts commands.
    /// </summary>
    public IReadOnlyList<string> SiteCgroups { get; init; } = [];

    /// <summary>Pin the maps in bpffs (default on), where tools such as bpftool can inspect them.</summary>
    public bool PinMaps { get; init; } = true;

    /// <summary>Also give lanes to loopback flows (127.0.0.0/8, ::1), as the shim's include_loopback does; off by default.</summary>
    public bool IncludeLoopback { get; init; }

    /// <summary>The object file's path.</summary>
    public string ObjectPath => Path.Combine(LibraryDirectory, "laneshim.bpf.o");
}
