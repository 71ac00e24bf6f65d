// DemoResultsJson.cs - writes results.json: line_rate_mbps, rtt_ms, and one object per run (mover, mode, mbps, seconds, ok, note).
using System.Text.Json;

namespace LaneShim.Lab.Demo;

/// <summary>The demo's machine-readable output, field by field in the documented order.</summary>
internal static class DemoResultsJson
{
    public static void Write(string path, DemoReport report)
    {
        string temporary = path + ".tmp";
        using (FileStream stream = File.Create(temporary))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("line_rate_mbps", Math.Round(report.LineRateMbps, 1));
            json.WriteNumber("rtt_ms", Math.Round(report.RttMs, 2));
            json.WriteStartArray("runs");
            foreach (DemoRun run in report.Runs)
            {
                json.WriteStartObject();
                json.WriteString("mover", run.Mover);
                json.WriteString("mode", run.Mode.Name());
                json.WriteNumber("mbps", Math.Round(run.Mbps, 1));
                json.WriteNumber("seconds", Math.Round(run.Seconds, 2));
                json.WriteBoolean("ok", run.Ok);
                json.WriteString("note", run.Note);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        File.AppendAllText(temporary, "\n");
        File.Move(temporary, path, overwrite: true);
    }
}
