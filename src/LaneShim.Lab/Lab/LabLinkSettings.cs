// LabLinkSettings.cs - what the flags ask of one emulated link: rate, round-trip time, loss and queue.
namespace LaneShim.Lab.Lab;

/// <summary>One emulated link's parameters; the one-way delay is half the RTT in each direction.</summary>
internal sealed record LabLinkSettings(ulong RateBps, TimeSpan Rtt, double Loss, LabQueue Queue);
