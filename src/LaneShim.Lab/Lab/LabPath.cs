// LabPath.cs - one of the two client-to-server paths: path 1 through the middlebox, path 2 the bypass.
using System.Text.Json.Serialization;

namespace LaneShim.Lab.Lab;

/// <summary>A path between the edge routers, with its bottleneck, RTT and the devices it uses in each namespace.</summary>
internal sealed record LabPath
{
    /// <summary>"path1" or "path2".</summary>
    public required string Name { get; init; }

    /// <summary>The fwmark that selects it at the edge routers (0: the default, main table).</summary>
    public required uint Mark { get; init; }

    /// <summary>The routing table the edge routers use for it (254 = main).</summary>
    public required int Table { get; init; }

    /// <summary>The bottleneck rate of the path, bits/s.</summary>
    public required ulong RateBps { get; init; }

    /// <summary>The configured round-trip time between client and server over this path, ms.</summary>
    public required double RttMs { get; init; }

    /// <summary>Random loss per direction on the path's emulated link, 0..1.</summary>
    public required double Loss { get; init; }

    /// <summary>The links it crosses between edgea and edgeb, in order.</summary>
    public required IReadOnlyList<string> Links { get; init; }

    /// <summary>Edge A's egress device toward the server on this path.</summary>
    [JsonPropertyName("edgea_device")]
    public required string EdgeADevice { get; init; }

    /// <summary>Edge B's egress device toward the client on this path.</summary>
    [JsonPropertyName("edgeb_device")]
    public required string EdgeBDevice { get; init; }

    /// <summary>Every device of the path, by namespace name.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Devices { get; init; }
}
