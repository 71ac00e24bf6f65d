// TopologyParser.cs - reads the line-based topology file: `node NAME ROLE key=value...` and `link A B key=value...`.
using System.Globalization;

namespace LaneShim.Core.Topology;

/// <summary>Parses topology files; every error is <see cref="TopologyException"/> with file:line.</summary>
public static class TopologyParser
{
    /// <summary>Parses a whole topology file: <c>node</c> lines, then <c>link</c> lines between defined nodes; <c>#</c> starts a comment.</summary>
    /// <param name="text">The file's contents.</param>
    /// <param name="fileName">The name errors and <see cref="SiteTopology.Source"/> report.</param>
    /// <param name="version">The version the new graph starts at: 1, unless the caller continues an older graph's numbering so stale paths show.</param>
    /// <exception cref="TopologyException">The first problem, as file:line.</exception>
    public static SiteTopology Parse(string text, string fileName, long version = 1)
    {
        var nodes = new List<TopologyNode>();
        var links = new List<(string A, string B, ulong Cap, TimeSpan Latency, double Loss, uint Mark, int Vlan, int Line)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNo = i + 1;
            string line = lines[i];
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash];
            }
            string[] words = line.Split((char[])[' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }
            TopologyException Error(string problem) => new(fileName, lineNo, problem);
            switch (words[0])
            {
                case "node":
                    if (words.Length < 3)
                    {
                        throw Error("node needs a name and a role: node NAME host|router|switch|middlebox [key=value...]");
                    }
                    if (!names.Add(words[1]))
                    {
                        throw Error($"node '{words[1]}' is defined twice");
                    }
                    NodeRole role = words[2] switch
                    {
                        "host" => NodeRole.Host,
                        "router" => NodeRole.Router,
                        "switch" => NodeRole.Switch,
                        "middlebox" => NodeRole.Middlebox,
                        _ => throw Error($"unknown role '{words[2]}' (host, router, switch, middlebox)"),
                    };
                    string? type = null, netns = null;
                    var addresses = new List<Cidr>();
                    foreach ((string key, string value) in Pairs(words.Skip(3), Error))
                    {
                        switch (key)
                        {
                            case "type":
                                type = value;
                                break;
                            case "netns":
                                netns = value;
                                break;
                            case "addr":
                                foreach (string a in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
                                {
                                    addresses.Add(Cidr.TryParse(a, out Cidr? c, out string e) ? c : throw Error($"bad address '{a}': {e}"));
                                }
                                break;
                            default:
                                throw Error($"unknown node key '{key}' (type, netns, addr)");
                        }
                    }
                    if (role == NodeRole.Middlebox && type is null)
                    {
                        type = "middlebox";
                    }
                    nodes.Add(new TopologyNode(words[1], role, type, addresses, netns, lineNo));
                    break;
                case "link":
                    if (words.Length < 3)
                    {
                        throw Error("link needs two node names: link A B capacity=RATE latency=DURATION [loss=P%] [mark=N] [vlan=N]");
                    }
                    ulong capacity = 0;
                    TimeSpan latency = TimeSpan.Zero;
                    double loss = 0;
                    uint mark = 0;
                    int vlan = 0;
                    bool hasCapacity = false;
                    foreach ((string key, string value) in Pairs(words.Skip(3), Error))
                    {
                        switch (key)
                        {
                            case "capacity":
                                capacity = Units.TryParseRate(value, out ulong r, out string re) ? r : throw Error($"bad capacity '{value}': {re}");
                                hasCapacity = true;
                                break;
                            case "latency":
                                latency = Units.TryParseDuration(value, out TimeSpan d, out string de) ? d : throw Error($"bad latency '{value}': {de}");
                                break;
                            case "loss":
                                loss = ParseLoss(value) ?? throw Error($"bad loss '{value}' (a percentage like 0.01%)");
                                break;
                            case "mark":
                                mark = ParseUInt(value) ?? throw Error($"bad mark '{value}'");
                                break;
                            case "vlan":
                                vlan = ParseUInt(value) is uint v && v < 4096 ? (int)v : throw Error($"bad vlan '{value}' (0-4095)");
                                break;
                            default:
                                throw Error($"unknown link key '{key}' (capacity, latency, loss, mark, vlan)");
                        }
                    }
                    if (!hasCapacity)
                    {
                        throw Error("link needs capacity=RATE");
                    }
                    if (words[1] == words[2])
                    {
                        throw Error($"link from '{words[1]}' to itself");
                    }
                    links.Add((words[1], words[2], capacity, latency, loss, mark, vlan, lineNo));
                    break;
                default:
                    throw Error($"unknown line '{words[0]}' (node, link)");
            }
        }
        foreach (var l in links)
        {
            foreach (string end in new[] { l.A, l.B })
            {
                if (!names.Contains(end))
                {
                    throw new TopologyException(fileName, l.Line, $"link names undefined node '{end}'");
                }
            }
        }
        return new SiteTopology(nodes, links.Select((l, i) => new TopologyLink(i, l.A, l.B, l.Cap, l.Latency, l.Loss, l.Mark, l.Vlan, l.Line)), version, fileName);
    }

    private static IEnumerable<(string Key, string Value)> Pairs(IEnumerable<string> words, Func<string, TopologyException> error)
    {
        foreach (string w in words)
        {
            int eq = w.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == w.Length - 1)
            {
                throw error($"expected key=value, got '{w}'");
            }
            yield return (w[..eq], w[(eq + 1)..]);
        }
    }

    private static double? ParseLoss(string value)
    {
        bool percent = value.EndsWith('%');
        string number = percent ? value[..^1] : value;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < 0)
        {
            return null;
        }
        v = percent ? v / 100 : v;
        return v <= 1 ? v : null;
    }

    private static uint? ParseUInt(string value) =>
        value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint h) ? h : null
            : uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint d) ? d : null;
}
