// MiddleboxCounters.cs - what the lab's firewall counted: every packet it forwarded, and the new flows among them.
namespace LaneShim.Lab.Lab;

/// <summary>The middlebox's nftables counters.</summary>
internal sealed record MiddleboxCounters(long ForwardedPackets, long ForwardedBytes, long NewFlows);
