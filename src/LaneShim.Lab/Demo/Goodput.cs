// Goodput.cs - what one run achieved, measured from the tool's report or from the bytes it wrote.
namespace LaneShim.Lab.Demo;

/// <summary>
/// Mbit/s of payload over <see cref="Seconds"/>; <see cref="Ok"/> false when the run failed, <see cref="Note"/> says how it was
/// measured or why it failed; <see cref="TimeLimited"/> when the transfer was stopped at its time limit (goodput of what arrived).
/// </summary>
internal sealed record Goodput(bool Ok, double Mbps, double Seconds, string Note, bool TimeLimited = false)
{
    public static Goodput Failed(string why, double seconds = 0) => new(false, 0, seconds, why);
}
