// InterfaceCounters.cs - a network device's packet and byte counters, as `ip -s link` reports them.
namespace LaneShim.Lab.Lab;

/// <summary>Counters of one device (rx: packets the device received; tx: packets sent out of it).</summary>
internal sealed record InterfaceCounters(long RxPackets, long RxBytes, long TxPackets, long TxBytes);
