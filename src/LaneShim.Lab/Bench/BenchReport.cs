// BenchReport.cs - writes results.json ({"machine", "benchmarks": [...]}) and results.md, the table the README shows.
using System.Globalization;
using System.Text;
using System.Text.Json;
using LaneShim.Cli;

namespace LaneShim.Lab.Bench;

/// <summary>The harness's output files and console table.</summary>
internal static class BenchReport
{
    public static void WriteJson(string path, string machine, string command, double seconds, IReadOnlyList<BenchResult> results)
    {
        string temporary = path + ".tmp";
        using (FileStream stream = File.Create(temporary))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("machine", machine);
            json.WriteString("command", command);
            json.WriteNumber("seconds", Math.Round(seconds, 1));
            json.WriteStartArray("benchmarks");
            foreach (BenchResult r in results)
            {
                json.WriteStartObject();
                json.WriteString("name", r.Name);
                Number(json, "value", r.Value);
                json.WriteString("unit", r.Unit);
                Number(json, "baseline", r.Baseline);
                Number(json, "ratio", r.Ratio);
                Number(json, "target", r.Target);
                json.WriteBoolean("met", r.Met);
                if (r.Target is not null)
                {
                    json.WriteString("target_kind", r.Kind switch { TargetKind.AtMost => "at_most", TargetKind.Below => "below", _ => "at_least" });
                }
                foreach ((string key, object value) in r.Extra)
                {
                    switch (value)
                    {
                        case double d:
                            json.WriteNumber(key, Round(d));
                            break;
                        case int i:
                            json.WriteNumber(key, i);
                            break;
                        default:
                            json.WriteString(key, value.ToString());
                            break;
                    }
                }
                if (r.Note is not null)
                {
                    json.WriteString("note", r.Note);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        File.AppendAllText(temporary, "\n");
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The Markdown table, headed by the command and machine that produced it.</summary>
    public static string Markdown(string machine, string command, double seconds, IReadOnlyList<BenchResult> results)
    {
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"`{command}` on {machine}, {seconds:0} s\n\n");
        var table = new TextTable("benchmark", "value", "unit", "baseline", "ratio", "target", "met", "note");
        foreach (BenchResult r in results)
        {
            string target = r.Target is double t ? (r.Kind switch { TargetKind.AtMost => "≤ ", TargetKind.Below => "< ", _ => "≥ " }) + Format(t) : "";
            string met = r.Met ? "yes" : "**no**";
            table.Add($"`{r.Name}`", Format(r.Value), r.Unit, Format(r.Baseline), Format(r.Ratio), target, met, r.Note ?? "");
        }
        return md.Append(table.Markdown("lrlrrrll")).ToString();
    }

    public static string Format(double? value) => value switch
    {
        null => "–",
        double v when Math.Abs(v) >= 1000 => v.ToString("#,0", CultureInfo.InvariantCulture),
        double v when Math.Abs(v) >= 10 => v.ToString("0.0", CultureInfo.InvariantCulture),
        double v => v.ToString("0.###", CultureInfo.InvariantCulture),
    };

    // Three significant decimals keep the file readable without hiding a 1.01 target.
    private static double Round(double v) => Math.Abs(v) >= 100 ? Math.Round(v, 1) : Math.Round(v, 4);

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is double v && double.IsFinite(v))
        {
            json.WriteNumber(name, Round(v));
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
