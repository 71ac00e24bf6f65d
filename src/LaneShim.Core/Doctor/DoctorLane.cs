// DoctorLane.cs - a lane the doctor is asked about: a rate, an RTT and a congestion control.
namespace LaneShim.Core.Doctor;

/// <summary>A lane to check the host against.</summary>
/// <param name="Name">The lane class name (or "ad-hoc" for flags).</param>
/// <param name="RateBps">The lane's rate in bits per second.</param>
/// <param name="Rtt">The RTT its buffers are sized for.</param>
/// <param name="Congestion">The lane's congestion control; empty for the system default.</param>
public sealed record DoctorLane(string Name, ulong RateBps, RttChoice Rtt, string Congestion)
{
    /// <summary>The lane a policy class describes; a learning class is checked at its fallback RTT.</summary>
    public static DoctorLane FromClass(LaneClass laneClass)
    {
        ArgumentNullException.ThrowIfNull(laneClass);
        RttSource source = laneClass.RttMode == RttMode.Learn ? RttSource.Fallback : RttSource.Fixed;
        return new DoctorLane(laneClass.Name, laneClass.RateBps, new RttChoice(laneClass.Rtt, source), laneClass.Congestion);
    }

    /// <summary>Rate x RTT in bytes.</summary>
    public long BdpBytes => Bdp.Bytes(RateBps, Rtt.Rtt);

    /// <summary>"1 Gbit/s x 40 ms = 5.00 MB".</summary>
    public string DescribeBdp() => $"{Units.FormatRate(RateBps)} x {Rtt.Describe()} = {Units.FormatSize(BdpBytes)}";
}
