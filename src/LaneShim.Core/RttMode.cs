// RttMode.cs - whether a lane class sizes buffers for a fixed RTT or for one learned from past flows.
namespace LaneShim.Core;

/// <summary>Where a lane class gets the RTT its buffers are sized for.</summary>
public enum RttMode
{
    /// <summary>The class's <see cref="LaneClass.Rtt"/>.</summary>
    Fixed,

    /// <summary>Learned per destination from flow reports; <see cref="LaneClass.Rtt"/> until a sample exists.</summary>
    Learn,
}
