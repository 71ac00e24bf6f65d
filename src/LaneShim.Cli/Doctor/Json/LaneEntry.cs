// LaneEntry.cs - one lane class in `laneshim doctor --json`: its numbers and where each direction tops out.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>A lane and the rate this host lets it reach.</summary>
internal sealed record LaneEntry(
    string Name,
    ulong RateBps,
    string Rate,
    long RttMicroseconds,
    string Rtt,
    string RttSource,
    long BdpBytes,
    string Bdp,
    string Congestion,
    ulong TopsOutAtBps,
    bool Limited,
    DoctorDirection Send,
    DoctorDirection Receive,
    ulong? LinkBps);
