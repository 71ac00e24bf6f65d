// DemoTable.cs - the results as a table: Mbit/s, % of the lane's line rate, speed-up over plain, for the terminal and as Markdown.
using LaneShim.Cli;

namespace LaneShim.Lab.Demo;

/// <summary>One row per run (and per omitted hand-tuned run, saying why), grouped by mover.</summary>
internal static class DemoTable
{
    private static readonly string[] Header = ["mover", "mode", "Mbit/s", "% of line rate", "vs plain", "seconds", "server's data socket", "note"];

    public static void Write(TextWriter output, DemoReport report, IReadOnlyList<Mover> movers, DemoContext context) =>
        Table(report, movers, context).WriteTo(output);

    /// <summary>The same rows as a Markdown table (for the README), with the command that produced them.</summary>
    public static string Markdown(DemoReport report, IReadOnlyList<Mover> movers, DemoContext context, string command) =>
        $"Lane: {DemoFormat.Mbps(report.LineRateMbps)} line rate, {DemoFormat.Fixed(report.RttMs, 1)} ms RTT (ping over the bypass); " +
        $"plain runs take path 1 ({DemoFormat.Fixed(context.Lab.Path1.RateBps / 1e6, 0)} Mbit/s through the middlebox). Produced by `{command}`.\n\n" +
        Table(report, movers, context).Markdown("llrrrrll");

    private static TextTable Table(DemoReport report, IReadOnlyList<Mover> movers, DemoContext context)
    {
        var table = new TextTable(Header);
        foreach (string[] row in Rows(report, movers, context))
        {
            table.Add(row);
        }
        return table;
    }

    private static IEnumerable<string[]> Rows(DemoReport report, IReadOnlyList<Mover> movers, DemoContext context)
    {
        foreach (Mover mover in movers)
        {
            DemoRun? plain = report.Find(mover.Name, DemoMode.Plain);
            bool first = true;
            foreach (DemoMode mode in DemoModeNames.All)
            {
                string name = first ? mover.Name : "";
                DemoRun? run = report.Find(mover.Name, mode);
                if (run is null)
                {
                    if (mode == DemoMode.HandTuned && mover.NoHandTuning is string none)
                    {
                        yield return [name, mode.Name(), "-", "-", "-", "-", "-", $"omitted: {none}"];
                        first = false;
                    }
                    continue;
                }
                first = false;
                if (!run.Ok)
                {
                    yield return [name, mode.Name(), "failed", "-", "-", run.Seconds > 0 ? DemoFormat.Fixed(run.Seconds) : "-", run.Server?.Describe() ?? "-", Clip(run.Note)];
                    continue;
                }
                string vsPlain = plain is { Ok: true, Mbps: > 0 } ? $"{DemoFormat.Fixed(run.Mbps / plain.Mbps)}x" : "-";
                yield return [name, mode.Name(), DemoFormat.Fixed(run.Mbps), $"{DemoFormat.Fixed(run.Mbps / report.LineRateMbps * 100)}%",
                    vsPlain, DemoFormat.Fixed(run.Seconds), run.Server?.Describe() ?? "-", ShortNote(mover, run, context)];
            }
        }
    }

    private static string ShortNote(Mover mover, DemoRun run, DemoContext context)
    {
        var parts = new List<string>();
        if (run.TimeLimited)
        {
            parts.Add($"time-limited: stopped after {DemoFormat.Fixed(run.Seconds, 0)} s");
        }
        string setup = mover.Setup(run.Mode, context);
        if (setup.Length > 0)
        {
            parts.Add(setup);
        }
        if (run.Mode != DemoMode.Plain && mover.Cap(context) is ProtocolCap cap)
        {
            parts.Add($"capped by {cap.Limit}: {DemoFormat.Mbps(cap.Mbps)} at this RTT");
        }
        return string.Join("; ", parts);
    }

    private static string Clip(string text) => text.Length > 120 ? text[..120] + "..." : text;
}
