// RttSource.cs - where the RTT a grant was sized for came from.
namespace LaneShim.Core;

/// <summary>Where the RTT of a grant came from.</summary>
public enum RttSource
{
    /// <summary>The class's fixed RTT.</summary>
    Fixed,

    /// <summary>Learned from earlier flows to the same destination.</summary>
    Learned,

    /// <summary>The class learns, but had no sample for the destination yet: its fallback RTT.</summary>
    Fallback,
}
