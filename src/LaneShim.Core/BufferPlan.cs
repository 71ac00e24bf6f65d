// BufferPlan.cs - the decision for one socket buffer: mode, the value for setsockopt, and why.
namespace LaneShim.Core;

/// <summary>How to size one socket buffer, and the notes a person needs to understand the choice.</summary>
/// <param name="Direction">Send or receive buffer.</param>
/// <param name="Mode">Autotune, Set or Force.</param>
/// <param name="Bytes">The value to pass to setsockopt (the kernel doubles it); 0 for <see cref="BufferMode.Autotune"/>.</param>
/// <param name="NeedBytes">What the lane needs: the BDP.</param>
/// <param name="AutotuneCeiling">The host's autotuning ceiling for this direction (tcp_wmem/tcp_rmem max), kernel-accounted bytes.</param>
/// <param name="Clamped">True when <paramref name="Bytes"/> is less than the program or the lane needs.</param>
/// <param name="Notes">Human notes: clamps, ceilings, the program's own settings.</param>
public sealed record BufferPlan(
    BufferDirection Direction,
    BufferMode Mode,
    long Bytes,
    long NeedBytes,
    long AutotuneCeiling,
    bool Clamped,
    IReadOnlyList<string> Notes)
{
    /// <summary>The socket option's short name: "sndbuf" or "rcvbuf".</summary>
    public string OptionName => Direction == BufferDirection.Send ? "sndbuf" : "rcvbuf";

    /// <summary>
    /// One phrase for a reason line: "sndbuf 5.00 MB (force)", "rcvbuf autotune (ceiling 32 MiB)",
    /// "sndbuf 4 MiB (set, clamped)".
    /// </summary>
    public string Describe() => Mode switch
    {
        BufferMode.Autotune => $"{OptionName} autotune (ceiling {Units.FormatSize(AutotuneCeiling)})",
        BufferMode.Force => $"{OptionName} {Units.FormatSize(Bytes)} (force{(Clamped ? ", clamped" : "")})",
        _ => $"{OptionName} {Units.FormatSize(Bytes)} (set{(Clamped ? ", clamped" : "")})",
    };
}
