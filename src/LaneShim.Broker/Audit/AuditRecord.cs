// AuditRecord.cs - one decision of the broker as the audit log records it.
using System.Text.Json.Serialization;

namespace LaneShim.Broker.Audit;

/// <summary>
/// The facts of one decision; <see cref="AuditLog"/> writes it as one JSON line (<see cref="AuditJson"/>): the
/// properties in this order, under their <see cref="JsonPropertyNameAttribute"/> names, absent ones left out.
/// </summary>
public sealed record AuditRecord
{
    /// <summary>When the decision was made.</summary>
    [JsonPropertyName("time")]
    [JsonConverter(typeof(AuditTimeConverter))]
    public required DateTimeOffset Time { get; init; }

    /// <summary>The method: RequestLane, RenewLane, ReleaseLane, ReportFlow.</summary>
    [JsonPropertyName("method")]
    public required string Method { get; init; }

    /// <summary>grant, deny, no-match, invalid, unauthenticated, proof-failed, not-owner, exhausted, error, renew, release, report.</summary>
    [JsonPropertyName("verdict")]
    public required string Verdict { get; init; }

    /// <summary>Kernel-reported uid of a local caller.</summary>
    [JsonPropertyName("uid")]
    public uint? Uid { get; init; }

    /// <summary>Kernel-reported gid of a local caller.</summary>
    [JsonPropertyName("gid")]
    public uint? Gid { get; init; }

    /// <summary>Kernel-reported pid of a local caller.</summary>
    [JsonPropertyName("pid")]
    public int? Pid { get; init; }

    /// <summary>The program path the request claims.</summary>
    [JsonPropertyName("program")]
    public string? Program { get; init; }

    /// <summary>The mTLS principal of a remote caller.</summary>
    [JsonPropertyName("principal")]
    public string? Principal { get; init; }

    /// <summary>The transport peer ("unix:" or "ipv4:a.b.c.d:p").</summary>
    [JsonPropertyName("peer")]
    public string? Peer { get; init; }

    /// <summary>out, in or listen.</summary>
    [JsonPropertyName("direction")]
    public string? Direction { get; init; }

    /// <summary>"a.b.c.d:p" of the local end, as requested.</summary>
    [JsonPropertyName("local")]
    public string? Local { get; init; }

    /// <summary>"a.b.c.d:p" of the remote end, as requested.</summary>
    [JsonPropertyName("remote")]
    public string? Remote { get; init; }

    /// <summary>The deciding rule, "lanes.conf:7".</summary>
    [JsonPropertyName("rule")]
    public string? Rule { get; init; }

    /// <summary>The granted class.</summary>
    [JsonPropertyName("class")]
    public string? LaneClass { get; init; }

    /// <summary>The granted rate, bits per second.</summary>
    [JsonPropertyName("rate_bps")]
    public ulong? RateBps { get; init; }

    /// <summary>The first 8 characters of the lease id (the id is a capability; the log never holds it whole).</summary>
    [JsonPropertyName("lease")]
    public string? Lease { get; init; }

    /// <summary>"ok", "failed", "skipped" or null when not attempted.</summary>
    [JsonPropertyName("proof")]
    public string? Proof { get; init; }

    /// <summary>Settings the broker applied on the proven socket, as grant bits.</summary>
    [JsonPropertyName("broker_applied")]
    public uint? BrokerApplied { get; init; }

    /// <summary>Why, in words (deny reason, proof failure, grant reason).</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; init; }
}
