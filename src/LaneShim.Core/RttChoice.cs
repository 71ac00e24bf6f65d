// RttChoice.cs - the RTT a grant is sized for, and where it came from.
namespace LaneShim.Core;

/// <summary>The RTT to size a grant for.</summary>
/// <param name="Rtt">The round-trip time.</param>
/// <param name="Source">Fixed by the class, learned, or the class's fallback.</param>
public readonly record struct RttChoice(TimeSpan Rtt, RttSource Source)
{
    /// <summary>"40 ms", "38.2 ms learned", "100 ms fallback".</summary>
    public string Describe() => Source switch
    {
        RttSource.Learned => $"{Units.FormatDuration(Rtt)} learned",
        RttSource.Fallback => $"{Units.FormatDuration(Rtt)} fallback",
        _ => Units.FormatDuration(Rtt),
    };
}
