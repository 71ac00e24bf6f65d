// DemoResultsJson.cs - writes results.json: line_rate_mbps, rtt_ms, lab_default_cc, and one object per run (mover, mode, mbps, seconds, ok, note, server).
using System.Text.Json;

namespace LaneShim.Lab.Demo;

/// <summary>The demo's machine-readable output (<see cref="DemoResultsFile"/>), replaced atomically.</summary>
internal static class DemoResultsJson
{
    public static void Write(string path, DemoReport report)
    {
        var file = new DemoResultsFile(Math.Round(report.LineRateMbps, 1), Math.Round(report.RttMs, 2),
            report.Runs.Select(r => new DemoResultsRun(r.Mover, r.Mode.Name(), Math.Round(r.Mbps, 1), Math.Round(r.Seconds, 2), r.Ok, r.Note,
                r.Server is ServerSide server ? DemoResultsServer.From(server) : null)).ToArray(),
            report.LabDefaultCc);
        string temporary = path + ".tmp";
        using (FileStream stream = File.Create(temporary))
        {
            JsonSerializer.Serialize(stream, file, DemoJson.Default.DemoResultsFile);
        }
        File.AppendAllText(temporary, "\n");
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a results.json the demo wrote.</summary>
    /// <exception cref="JsonException">The file is not one.</exception>
    public static DemoResultsFile Read(string path) =>
        JsonSerializer.Deserialize(File.ReadAllBytes(path), DemoJson.Default.DemoResultsFile) ?? throw new JsonException($"{path}: empty");
}
