// LabLink.cs - one link of the lab: a veth pair (no shaping) or an emulated WAN link (laneshim-linkemu).
namespace LaneShim.Lab.Lab;

/// <summary>A point-to-point link between two lab nodes, with the parameters it was built with.</summary>
internal sealed record LabLink
{
    /// <summary>"client-edgea", "path1", "mbox-edgeb", "path2", "edgeb-server".</summary>
    public required string Name { get; init; }

    /// <summary>"veth" or "emulated".</summary>
    public required string Kind { get; init; }

    /// <summary>The first end; for an emulated link, direction "ab" of its stats runs from here.</summary>
    public required LabLinkEnd A { get; init; }

    /// <summary>The second end.</summary>
    public required LabLinkEnd B { get; init; }

    /// <summary>Serialization rate per direction in bits/s; 0 = not shaped (a veth pair).</summary>
    public required ulong RateBps { get; init; }

    /// <summary>The capacity the topology file gives the link (for a veth pair, a nominal LAN rate).</summary>
    public required ulong CapacityBps { get; init; }

    /// <summary>Round-trip time the link adds (twice its one-way delay), in milliseconds.</summary>
    public required double RttMs { get; init; }

    /// <summary>Random loss per direction, 0..1.</summary>
    public required double Loss { get; init; }

    /// <summary>Tail-drop limit per direction in bytes; 0 = none.</summary>
    public required long QueueBytes { get; init; }

    /// <summary>The fwmark that steers flows over this link (0: the default route).</summary>
    public required uint Mark { get; init; }

    /// <summary>The emulator process, for emulated links.</summary>
    public LabEmulator? Emulator { get; init; }

    /// <summary>Kind of an unshaped veth pair.</summary>
    public const string Veth = "veth";

    /// <summary>Kind of a link a laneshim-linkemu process emulates with a TUN device at each end.</summary>
    public const string Emulated = "emulated";
}
