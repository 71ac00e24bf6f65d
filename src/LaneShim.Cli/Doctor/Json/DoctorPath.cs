// DoctorPath.cs - one egress path in `laneshim doctor --json`: route, interface and qdiscs.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>Where traffic to one destination leaves this host.</summary>
internal sealed record DoctorPath(
    string Destination,
    string? Device,
    string? Gateway,
    string? Source,
    long? Mtu,
    long? RouteMtu,
    long? TxQueueLen,
    long? SpeedMbps,
    string? RootQdisc,
    IReadOnlyList<string> ChildQdiscs,
    string? Error);
