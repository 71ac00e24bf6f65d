// ProtocolCap.cs - a limit a mover's own protocol puts on one transfer, whatever the socket buffers and the path.
namespace LaneShim.Lab.Demo;

/// <summary>The most the protocol allows at this RTT, Mbit/s; what limits it, in a few words; and why, with the arithmetic.</summary>
internal sealed record ProtocolCap(double Mbps, string Limit, string Why);
