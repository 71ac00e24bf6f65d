// DoctorText.cs - the doctor's report for people: lane headlines, an aligned findings table, the why and the fix.
using System.Text;
using LaneShim.Core;
using LaneShim.Core.Doctor;

namespace LaneShim.Cli.Doctor;

/// <summary>Human output. Colour (severity words, headings) only when asked, which the command does for a terminal without NO_COLOR.</summary>
internal sealed class DoctorText
{
    private const string Reset = "\u001b[0m";
    private const string Bold = "\u001b[1m";
    private const string Indent = "    ";

    private readonly TextWriter _out;
    private readonly bool _color;
    private readonly int _width;

    public DoctorText(TextWriter output, bool color, int width)
    {
        _out = output;
        _color = color;
        _width = Math.Clamp(width, 60, 200);
    }

    /// <summary>Colour when stdout is a terminal, NO_COLOR is unset or empty, and TERM is not "dumb" (no-color.org).</summary>
    public static bool ShouldColor() =>
        !Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
        && Environment.GetEnvironmentVariable("TERM") != "dumb";

    /// <summary>The report: header, lanes, findings, summary.</summary>
    public void WriteReport(DoctorReport report, int exitCode, string sysctlDir)
    {
        HostSnapshot host = report.Host;
        string ns = host.InitialNetworkNamespace switch
        {
            true => "initial network namespace",
            false => "a network namespace other than the initial one",
            null => "network namespace unknown",
        };
        _out.WriteLine(Paint(Bold, $"laneshim doctor: kernel {(host.KernelRelease.Length > 0 ? host.KernelRelease : "unknown")}, {ns}"));
        _out.WriteLine();
        foreach (LaneSummary lane in report.Lanes)
        {
            WriteLane(lane);
        }

        WriteTable(report.Findings);
        _out.WriteLine();
        int limits = report.Count(Severity.LimitsThroughput);
        string summary = $"{limits} limit{(limits == 1 ? "s" : "")} throughput, {report.Count(Severity.Warn)} warn, {report.Count(Severity.Ok)} ok: exit {exitCode}";
        _out.WriteLine(Paint(limits > 0 ? SeverityColor(Severity.LimitsThroughput) : SeverityColor(Severity.Ok), summary));
        if (report.Changes.Count > 0)
        {
            _out.WriteLine($"laneshim doctor --apply writes the {report.Changes.Count} sysctl fix{(report.Changes.Count == 1 ? "" : "es")} to " +
                $"{Path.Combine(sysctlDir, SysctlConfFile.FileName)} and loads them; --revert undoes it.");
        }
    }

    /// <summary>The BPF lane path's readiness: one line per check, then the verdict.</summary>
    public void WriteBpf(IReadOnlyList<BpfCheck> checks)
    {
        _out.WriteLine();
        _out.WriteLine(Paint(Bold, "BPF lane path (laneshim broker --bpf, laneshim run --bpf: static and Go programs)"));
        foreach (BpfCheck check in checks)
        {
            _out.WriteLine($"  {Paint(check.Ok ? SeverityColor(Severity.Ok) : SeverityColor(Severity.LimitsThroughput), check.Ok ? "ok     " : "missing")}  {check.Name,-18} {check.Detail}");
        }
        bool ready = checks.All(c => c.Ok);
        _out.WriteLine(ready ? "this host can run the BPF lane path" : $"this host cannot run the BPF lane path: {string.Join(", ", checks.Where(c => !c.Ok).Select(c => c.Name))} missing");
    }

    /// <summary>What --apply or --revert did.</summary>
    public void WriteOutcome(string verb, SysctlFileOutcome outcome)
    {
        string file = outcome.FileAction switch
        {
            "none" => $"nothing to do ({outcome.File} untouched)",
            "written" => $"{outcome.File} written",
            "unchanged" => $"{outcome.File} already up to date",
            "restored" => $"{outcome.File} restored from {Path.GetFileName(outcome.Backup)}",
            "removed" => $"{outcome.File} removed",
            _ => outcome.File,
        };
        if (outcome.FileAction is "written" or "unchanged" && outcome.Backup is not null)
        {
            file += $" (the previous file is kept as {Path.GetFileName(outcome.Backup)})";
        }

        _out.WriteLine(Paint(Bold, $"{verb}: {file}"));
        if (outcome.Values.Count > 0)
        {
            var values = new TextTable();
            foreach (LoadedValue v in outcome.Values)
            {
                values.Add(v.Key, $"{v.Before ?? "?"} -> {v.Value}", Describe(v));
            }
            WriteIndented(values);
        }

        _out.WriteLine();
    }

    private void WriteLane(LaneSummary lane)
    {
        _out.WriteLine(Paint(Bold, $"lane {lane.Lane.Name}: {lane.Lane.DescribeBdp()} in flight" +
            (lane.Lane.Congestion.Length > 0 ? $", cc {lane.Lane.Congestion}" : "")));
        var reach = new TextTable();
        reach.Add("as sender", Reach(lane.Lane, lane.Send.TopsOutAtBps), LimitedBy(lane.Send.LimitedBy));
        reach.Add("as receiver", Reach(lane.Lane, lane.Receive.TopsOutAtBps), LimitedBy(lane.Receive.LimitedBy));
        if (lane.LinkBps is ulong link)
        {
            reach.Add("on the link", Reach(lane.Lane, link), LimitedBy(["link-speed"]));
        }

        WriteIndented(reach);

        _out.WriteLine();
    }

    private static string LimitedBy(IReadOnlyList<string> ids) => ids.Count == 0 ? "" : $"(limited by {string.Join(", ", ids)})";

    private static string Reach(DoctorLane lane, ulong bps) =>
        bps >= lane.RateBps ? $"full rate ({Units.FormatRate(lane.RateBps)})" : $"tops out at about {Units.FormatRate(bps)}";

    private void WriteTable(IReadOnlyList<Finding> findings)
    {
        var table = new TextTable("SEVERITY", "SCOPE", "CHECK", "MEASURED", "NEEDED");
        foreach (Finding f in findings)
        {
            table.Add(f.Severity.ToText(), f.Scope, f.Id, f.Measured, f.Needed);
        }
        IReadOnlyList<string> lines = table.Lines();
        _out.WriteLine(Paint(Bold, lines[0]));
        for (int i = 0; i < findings.Count; i++)
        {
            Finding f = findings[i];
            string word = f.Severity.ToText();
            // Colour the severity word only; the padding stays plain so columns line up in any terminal.
            _out.WriteLine(Paint(SeverityColor(f.Severity), word) + lines[i + 1][word.Length..]);
            if (f.Severity != Severity.Ok)
            {
                foreach (string wrapped in Wrap(f.Why, Indent, Indent))
                {
                    _out.WriteLine(wrapped);
                }

                if (f.Fix is not null)
                {
                    _out.WriteLine($"{Indent}fix: {f.Fix}");
                }
            }
        }
    }

    private static string Describe(LoadedValue v) => v.Status switch
    {
        LoadStatus.Loaded => "loaded",
        LoadStatus.Unchanged => "already set",
        LoadStatus.ReadOnly => "in the file only: read-only in this network namespace (global; apply in the initial namespace)",
        _ => $"failed: {v.Message}",
    };

    // A table without a header, two blanks in from the margin (the lines under a lane or an --apply headline).
    private void WriteIndented(TextTable table)
    {
        foreach (string line in table.Lines())
        {
            _out.WriteLine("  " + line);
        }
    }

    private IEnumerable<string> Wrap(string text, string first, string rest)
    {
        var line = new StringBuilder(first);
        bool empty = true;
        foreach (string word in Words(text))
        {
            if (!empty && line.Length + 1 + word.Length > _width)
            {
                yield return line.ToString();
                line.Clear().Append(rest);
                empty = true;
            }

            if (!empty)
            {
                line.Append(' ');
            }

            line.Append(word);
            empty = false;
        }

        if (!empty)
        {
            yield return line.ToString();
        }
    }

    // Words to wrap between; a number stays with the word after it ("839 Mbit/s", "4 MiB"), so no line starts with a unit.
    private static IEnumerable<string> Words(string text)
    {
        string? number = null;
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (number is not null)
            {
                yield return number + " " + word;
                number = null;
            }
            else if (word.TrimStart('(').Length > 0 && word.TrimStart('(').All(c => char.IsAsciiDigit(c) || c is '.' or ','))
            {
                number = word;
            }
            else
            {
                yield return word;
            }
        }

        if (number is not null)
        {
            yield return number;
        }
    }

    private static string SeverityColor(Severity s) => s switch
    {
        Severity.Ok => "\u001b[32m",
        Severity.Warn => "\u001b[33m",
        _ => "\u001b[1;31m",
    };

    private string Paint(string color, string text) => _color ? color + text + Reset : text;
}
