// LabCounters.cs - reads the evidence of where packets went: device counters, the middlebox's counters, the emulators' stats.
using System.Text.Json;

namespace LaneShim.Lab.Lab;

/// <summary>Live counters of a running lab, for status, tests and the demo.</summary>
internal static class LabCounters
{
    /// <summary>Counters of every device in a namespace, by device name; throws <see cref="LabException"/> when the namespace is gone.</summary>
    public static IReadOnlyDictionary<string, InterfaceCounters> Interfaces(string netns)
    {
        string json = LabTools.Check($"reading device counters in {netns}", LabTools.Ip, ["-n", netns, "-j", "-s", "link", "show"]);
        var result = new Dictionary<string, InterfaceCounters>(StringComparer.Ordinal);
        using JsonDocument doc = JsonDocument.Parse(json);
        foreach (JsonElement dev in doc.RootElement.EnumerateArray())
        {
            if (!dev.TryGetProperty("ifname", out JsonElement name) || !dev.TryGetProperty("stats64", out JsonElement stats))
            {
                continue;
            }
            JsonElement rx = stats.GetProperty("rx"), tx = stats.GetProperty("tx");
            result[name.GetString()!] = new InterfaceCounters(
                rx.GetProperty("packets").GetInt64(), rx.GetProperty("bytes").GetInt64(),
                tx.GetProperty("packets").GetInt64(), tx.GetProperty("bytes").GetInt64());
        }
        return result;
    }

    /// <summary>Counters of one device; throws <see cref="LabException"/> when it does not exist.</summary>
    public static InterfaceCounters Interface(string netns, string device) =>
        Interfaces(netns).TryGetValue(device, out InterfaceCounters? c) ? c : throw new LabException($"no device {device} in namespace {netns}");

    /// <summary>The middlebox's forwarded-packet and new-flow counters.</summary>
    public static MiddleboxCounters Middlebox(LabState lab)
    {
        LabMiddlebox m = lab.Middlebox;
        string json = LabTools.InNamespace($"reading the middlebox counters in {m.Namespace}", m.Namespace, LabTools.Nft,
            ["-j", "list", "counters", "table", m.Family, m.Table]);
        long packets = 0, bytes = 0, newFlows = 0;
        using JsonDocument doc = JsonDocument.Parse(json);
        foreach (JsonElement item in doc.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("counter", out JsonElement c))
            {
                continue;
            }
            string? name = c.GetProperty("name").GetString();
            if (name == m.ForwardedCounter)
            {
                packets = c.GetProperty("packets").GetInt64();
                bytes = c.GetProperty("bytes").GetInt64();
            }
            else if (name == m.NewFlowsCounter)
            {
                newFlows = c.GetProperty("packets").GetInt64();
            }
        }
        return new MiddleboxCounters(packets, bytes, newFlows);
    }

    /// <summary>The latest stats of an emulated link's emulator, or null (a veth link, or no stats yet).</summary>
    public static EmulatorStats? Emulator(LabLink link) => link.Emulator is null ? null : EmulatorStats.Read(link.Emulator.StatsFile);
}
