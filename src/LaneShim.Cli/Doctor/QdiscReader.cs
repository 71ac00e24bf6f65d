// QdiscReader.cs - the root qdisc of an interface and its children (`tc -j qdisc show dev X`).
using System.Text.Json;

namespace LaneShim.Cli.Doctor;

/// <summary>Reads qdiscs through tc's JSON output.</summary>
internal static class QdiscReader
{
    /// <summary>The root qdisc's kind and its direct children's kinds; Root is null when tc is missing or fails.</summary>
    public static (string? Root, IReadOnlyList<string> Children, IReadOnlyList<string> AllKinds) Read(string device)
    {
        var result = ToolRunner.Run("tc", "-j", "qdisc", "show", "dev", device);
        if (result is null || result.Value.ExitCode != 0)
        {
            return (null, [], []);
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(result.Value.Stdout);
            string? root = null;
            string? rootHandle = null;
            var all = new List<(string Kind, string? Parent)>();
            foreach (JsonElement q in doc.RootElement.EnumerateArray())
            {
                string kind = q.TryGetProperty("kind", out JsonElement k) ? k.GetString() ?? "" : "";
                string? parent = q.TryGetProperty("parent", out JsonElement p) ? p.GetString() : null;
                if (q.TryGetProperty("root", out JsonElement r) && r.ValueKind == JsonValueKind.True)
                {
                    root = kind;
                    rootHandle = q.TryGetProperty("handle", out JsonElement h) ? h.GetString() : null;
                }
                else
                {
                    all.Add((kind, parent));
                }
            }

            // A device that is down has no qdisc at all; the kernel attaches noqueue or the default when it comes up.
            string[] children = rootHandle is null
                ? []
                : all.Where(c => c.Parent is not null && c.Parent.StartsWith(rootHandle, StringComparison.Ordinal)).Select(c => c.Kind).ToArray();
            return (root ?? "none", children, all.Select(c => c.Kind).Append(root ?? "").ToArray());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return (null, [], []);
        }
    }
}
