// LabNamespaces.cs - the five network namespaces of a lab, named {name}-{role}.
using System.Text.Json.Serialization;

namespace LaneShim.Lab.Lab;

/// <summary>The lab's namespaces by role: two hosts, two edge routers and the middlebox between them on path 1.</summary>
internal sealed record LabNamespaces
{
    /// <summary>The roles, in the order packets from the client meet them on path 1.</summary>
    public static readonly IReadOnlyList<string> Roles = ["client", "edgea", "mbox", "edgeb", "server"];

    /// <summary>The client host.</summary>
    public required string Client { get; init; }

    /// <summary>The client side's edge router, where the paths fork.</summary>
    [JsonPropertyName("edgea")]
    public required string EdgeA { get; init; }

    /// <summary>The middlebox (campus firewall) on path 1.</summary>
    public required string Mbox { get; init; }

    /// <summary>The server side's edge router, where the paths join.</summary>
    [JsonPropertyName("edgeb")]
    public required string EdgeB { get; init; }

    /// <summary>The server host.</summary>
    public required string Server { get; init; }

    /// <summary>All five, in <see cref="Roles"/> order.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> All => [Client, EdgeA, Mbox, EdgeB, Server];

    /// <summary>The namespace names a lab called <paramref name="name"/> uses.</summary>
    public static LabNamespaces For(string name) => new()
    {
        Client = $"{name}-client",
        EdgeA = $"{name}-edgea",
        Mbox = $"{name}-mbox",
        EdgeB = $"{name}-edgeb",
        Server = $"{name}-server",
    };

    /// <summary>The namespace of a role ("client", "edgea", ...).</summary>
    public string OfRole(string role) => role switch
    {
        "client" => Client,
        "edgea" => EdgeA,
        "mbox" => Mbox,
        "edgeb" => EdgeB,
        "server" => Server,
        _ => throw new ArgumentException($"unknown lab role '{role}'", nameof(role)),
    };
}
