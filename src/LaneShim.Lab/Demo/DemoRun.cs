// DemoRun.cs - one measured run of one mover in one mode, as results.json records it.
namespace LaneShim.Lab.Demo;

/// <summary>Goodput in Mbit/s over <see cref="Seconds"/>; <see cref="Ok"/> false when the run failed (then <see cref="Note"/> says why); <see cref="TimeLimited"/>: stopped at its time limit.</summary>
internal sealed record DemoRun(string Mover, DemoMode Mode, double Mbps, double Seconds, bool Ok, string Note, bool TimeLimited = false)
{
    /// <summary>The server's end of a laneshim run (null for the other modes).</summary>
    public ServerSide? Server { get; init; }
}
