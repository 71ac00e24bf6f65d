// DemoResultsJson.cs - writes results.json: line_rate_mbps, rtt_ms, lab_default_cc, and one object per run (mover, mode,
// mbps, seconds, ok, note, and for laneshim runs the server's end: what the kernel held on its data socket and what was granted).
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
            json.WriteString("lab_default_cc", report.LabDefaultCc);
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
                if (run.Server is ServerSide server)
                {
                    WriteServer(json, server);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        File.AppendAllText(temporary, "\n");
        File.Move(temporary, path, overwrite: true);
    }

    // "server": {"wrapped", "cc", "sndbuf" (sk_sndbuf: twice what was set), "pacing_bps" (SO_MAX_PACING_RATE), "granted": {"by", ...}}.
    private static void WriteServer(Utf8JsonWriter json, ServerSide server)
    {
        json.WriteStartObject("server");
        json.WriteBoolean("wrapped", server.Wrapped);
        if (server.Socket is ServerSocket socket)
        {
            json.WriteString("socket", $"{socket.Local} {socket.Peer}");
            json.WriteString("cc", socket.Congestion);
            json.WriteNumber("sndbuf", socket.SendBuffer);
            if (socket.MaxPacingBps is long pacing)
            {
                json.WriteNumber("pacing_bps", pacing);
            }
            else
            {
                json.WriteNull("pacing_bps");
            }
        }
        if (server.Granted is { Grant: var granted, By: var by })
        {
            json.WriteStartObject("granted");
            json.WriteString("by", by);
            json.WriteString("cc", granted.Congestion);
            json.WriteNumber("sndbuf", granted.SndbufBytes);
            json.WriteString("sndbuf_mode", granted.SndbufMode.ToString().ToLowerInvariant());
            json.WriteNumber("pacing_bps", granted.PacingRate * 8);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }
}
