// ClientOutcome.cs - how a mover's client command ended and what it printed.
namespace LaneShim.Lab.Demo;

/// <summary>
/// The client's exit code (null when the demo stopped it at its time limit: <see cref="Capped"/>), its wall time,
/// its output, and the bytes at the destination when it was stopped (-1 when not measured).
/// </summary>
internal sealed record ClientOutcome(int? ExitCode, bool Capped, TimeSpan Elapsed, string Stdout, string Stderr, long BytesAtCap)
{
    /// <summary>The last non-empty line of stderr (or stdout), for a note.</summary>
    public string LastWords()
    {
        string text = Stderr.Trim().Length > 0 ? Stderr : Stdout;
        string? line = text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
        return line is null ? "no output" : line.Length > 200 ? line[..200] + "..." : line;
    }
}
