// DemoResultsServer.cs - a run's "server" object in results.json: wrapped, the data socket as the kernel reported it, and its end's grant.
using System.Text.Json.Serialization;

namespace LaneShim.Lab.Demo;

/// <summary>
/// "server": {"wrapped", "socket", "cc", "sndbuf" (sk_sndbuf: twice what was set), "pacing_bps" (SO_MAX_PACING_RATE,
/// null: none), "granted": {"by", "cc", "sndbuf", "sndbuf_mode", "pacing_bps"}}. Without a data socket only "wrapped"
/// (and "granted", when there was a grant) is written.
/// </summary>
internal sealed record DemoResultsServer(
    bool Wrapped,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Socket = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Cc = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Sndbuf = null,
    long? PacingBps = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DemoResultsGrant? Granted = null)
{
    /// <summary>The JSON view of <paramref name="server"/>.</summary>
    public static DemoResultsServer From(ServerSide server) => new(
        server.Wrapped,
        server.Socket is { } s ? $"{s.Local} {s.Peer}" : null,
        server.Socket?.Congestion,
        server.Socket?.SendBuffer,
        server.Socket?.MaxPacingBps,
        server.Granted is { Grant: var g, By: var by }
            ? new DemoResultsGrant(by, g.Congestion, g.SndbufBytes, g.SndbufMode.ToString().ToLowerInvariant(), (long)(g.PacingRate * 8))
            : null);
}
