// BpfMapImage.cs - what the broker writes into the lane path's maps for one policy: prefixes, rules, classes, config.
namespace LaneShim.Broker.Bpf;

/// <summary>The maps' contents compiled from one policy (see <see cref="BpfPolicyCompiler"/>).</summary>
public sealed class BpfMapImage
{
    /// <summary>Destination prefix (IPv6, IPv4 mapped) → mask of the rules whose dst covers it.</summary>
    public required IReadOnlyList<(byte[] Address, int PrefixLength, ulong Mask)> Prefixes { get; init; }

    /// <summary>The rules, in policy order.</summary>
    public required IReadOnlyList<BpfRule> Rules { get; init; }

    /// <summary>The classes, by index.</summary>
    public required IReadOnlyList<BpfClassSettings> Classes { get; init; }

    /// <summary>The class names, by index (reports name them).</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Rules without a dst matcher.</summary>
    public required ulong NoDestinationMask { get; init; }

    /// <summary>What could not be compiled, in words (logged once per policy).</summary>
    public required IReadOnlyList<string> Notes { get; init; }
}
