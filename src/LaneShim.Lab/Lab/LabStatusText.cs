// LabStatusText.cs - `lab status` (and the end of `lab up`) for people: namespaces, links with their parameters, emulators, counters.
using System.Globalization;
using LaneShim.Cli;
using LaneShim.Core;

namespace LaneShim.Lab.Lab;

/// <summary>Writes a status report as tables.</summary>
internal static class LabStatusText
{
    public static void Write(TextWriter o, LabStatusReport r)
    {
        if (r.State is not LabState s)
        {
            o.WriteLine($"lab {r.Name}: not up");
            foreach (string p in r.Problems)
            {
                o.WriteLine($"  {p}");
            }
            return;
        }
        o.WriteLine($"lab {s.Name}: up, {(r.Healthy ? "healthy" : "NOT healthy")} (since {s.Created.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; state in {s.StateDirectory})");
        o.WriteLine($"client {s.ClientAddress} in {s.Namespaces.Client}, server {s.ServerAddress} in {s.Namespaces.Server}; " +
            $"default path1 via {s.Namespaces.Mbox}, lanes take path2 (mark 0x{s.Steering.Mark:x}, {Units.FormatRate(s.LineRateBps)}, {Ms(s.RttMs)})");
        o.WriteLine($"topology for the broker: {s.TopologyFile}");
        o.WriteLine();

        var links = new TextTable("LINK", "KIND", "END A", "END B", "RATE", "RTT", "LOSS", "QUEUE", "EMULATOR");
        foreach (LabLinkStatus l in r.Links)
        {
            LabLink k = l.Link;
            bool emulated = k.Emulator is not null;
            links.Add(k.Name, k.Kind, End(k.A), End(k.B),
                emulated ? Units.FormatRate(k.RateBps) : "-",
                emulated ? Ms(k.RttMs) : "-",
                emulated ? LabUnits.Percent(k.Loss) : "-",
                emulated ? (k.QueueBytes == 0 ? "unlimited" : Units.FormatSize(k.QueueBytes)) : "-",
                k.Emulator is LabEmulator e ? $"pid {e.Pid} {(l.EmulatorAlive == true ? "running" : "NOT RUNNING")}" : "-");
        }
        links.WriteTo(o);
        o.WriteLine();

        var traffic = new TextTable("LINK", "DIRECTION", "FORWARDED", "DROPPED loss/queue/buffer", "DEVICE COUNTERS (tx pkts)");
        foreach (LabLinkStatus l in r.Links)
        {
            LabLink k = l.Link;
            string devices = $"{k.A.Device} {Count(l.ACounters?.TxPackets)}, {k.B.Device} {Count(l.BCounters?.TxPackets)}";
            if (l.Stats is EmulatorStats st)
            {
                traffic.Add(k.Name, $"{k.A.Node}->{k.B.Node}", Forwarded(st.Ab), Dropped(st.Ab), devices);
                traffic.Add("", $"{k.B.Node}->{k.A.Node}", Forwarded(st.Ba), Dropped(st.Ba), "");
            }
            else
            {
                traffic.Add(k.Name, "both", "-", "-", devices);
            }
        }
        traffic.WriteTo(o);
        if (r.Middlebox is MiddleboxCounters m)
        {
            o.WriteLine();
            o.WriteLine($"middlebox ({s.Middlebox.Type}, {s.Middlebox.Namespace}): forwarded {m.ForwardedPackets} packets ({Units.FormatSize(m.ForwardedBytes)}), {m.NewFlows} new flows");
        }

        var namespaces = r.Namespaces.Where(n => !n.Present).Select(n => n.Name).ToList();
        o.WriteLine();
        o.WriteLine(namespaces.Count == 0
            ? $"namespaces: {string.Join(' ', r.Namespaces.Select(n => n.Name))} (all present)"
            : $"namespaces MISSING: {string.Join(' ', namespaces)}");
        foreach (string note in s.Notes)
        {
            o.WriteLine($"note: {note}");
        }
        foreach (string p in r.Problems)
        {
            o.WriteLine($"problem: {p}");
        }
    }

    private static string End(LabLinkEnd e) => $"{e.Namespace}/{e.Device} {e.Address}";

    private static string Ms(double ms) => ms.ToString("0.###", CultureInfo.InvariantCulture) + " ms";

    private static string Count(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "?";

    private static string Forwarded(EmulatorDirectionStats d) => $"{d.ForwardedPackets} pkts, {Units.FormatSize(d.ForwardedBytes)}";

    private static string Dropped(EmulatorDirectionStats d) => $"{d.DroppedLossPackets}/{d.DroppedQueuePackets}/{d.DroppedBufferPackets}";
}
