// EmulatorDirectionStats.cs - one direction of an emulated link as its emulator counts it.
namespace LaneShim.Lab.Lab;

/// <summary>Packets and bytes that entered one direction, left it, and were dropped (random loss, full queue, no buffer).</summary>
internal sealed record EmulatorDirectionStats(
    long ReceivedPackets,
    long ReceivedBytes,
    long ForwardedPackets,
    long ForwardedBytes,
    long DroppedLossPackets,
    long DroppedQueuePackets,
    long DroppedBufferPackets,
    long WriteErrors,
    long MaxQueueBytes);
