// LabStatusJson.cs - `lab status --json`: the report as one JSON document (snake_case, like lab.json), with the full state embedded.
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LaneShim.Lab.Lab;

/// <summary>Writes a status report as JSON.</summary>
internal static class LabStatusJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(Stream output, LabStatusReport r)
    {
        using var w = new Utf8JsonWriter(output, Options);
        w.WriteStartObject();
        w.WriteString("name", r.Name);
        w.WriteBoolean("up", r.Up);
        w.WriteBoolean("healthy", r.Healthy);
        w.WriteStartArray("problems");
        foreach (string p in r.Problems)
        {
            w.WriteStringValue(p);
        }
        w.WriteEndArray();
        w.WriteStartArray("namespaces");
        foreach (LabNamespaceStatus n in r.Namespaces)
        {
            w.WriteStartObject();
            w.WriteString("name", n.Name);
            w.WriteString("role", n.Role);
            w.WriteBoolean("present", n.Present);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("links");
        foreach (LabLinkStatus l in r.Links)
        {
            WriteLink(w, l);
        }
        w.WriteEndArray();
        if (r.Middlebox is MiddleboxCounters m)
        {
            w.WriteStartObject("middlebox");
            w.WriteNumber("forwarded_packets", m.ForwardedPackets);
            w.WriteNumber("forwarded_bytes", m.ForwardedBytes);
            w.WriteNumber("new_flows", m.NewFlows);
            w.WriteEndObject();
        }
        if (r.State is LabState s)
        {
            w.WritePropertyName("state");
            w.WriteRawValue(s.ToJson());
        }
        w.WriteEndObject();
    }

    private static void WriteLink(Utf8JsonWriter w, LabLinkStatus l)
    {
        LabLink k = l.Link;
        w.WriteStartObject();
        w.WriteString("name", k.Name);
        w.WriteString("kind", k.Kind);
        WriteEnd(w, "a", k.A, l.ACounters);
        WriteEnd(w, "b", k.B, l.BCounters);
        w.WriteNumber("rate_bps", k.RateBps);
        w.WriteNumber("capacity_bps", k.CapacityBps);
        w.WriteNumber("rtt_ms", k.RttMs);
        w.WriteNumber("loss", k.Loss);
        w.WriteNumber("queue_bytes", k.QueueBytes);
        w.WriteNumber("mark", k.Mark);
        if (k.Emulator is LabEmulator e)
        {
            w.WriteStartObject("emulator");
            w.WriteNumber("pid", e.Pid);
            w.WriteBoolean("alive", l.EmulatorAlive == true);
            w.WriteString("stats_file", e.StatsFile);
            w.WriteString("log_file", e.LogFile);
            if (l.Stats is EmulatorStats st)
            {
                w.WriteNumber("uptime_s", st.UptimeSeconds);
                WriteDirection(w, "ab", st.Ab);
                WriteDirection(w, "ba", st.Ba);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteEnd(Utf8JsonWriter w, string name, LabLinkEnd end, InterfaceCounters? c)
    {
        w.WriteStartObject(name);
        w.WriteString("node", end.Node);
        w.WriteString("namespace", end.Namespace);
        w.WriteString("device", end.Device);
        w.WriteString("address", end.Address);
        w.WriteNumber("prefix_length", end.PrefixLength);
        if (c is not null)
        {
            w.WriteNumber("rx_packets", c.RxPackets);
            w.WriteNumber("rx_bytes", c.RxBytes);
            w.WriteNumber("tx_packets", c.TxPackets);
            w.WriteNumber("tx_bytes", c.TxBytes);
        }
        w.WriteEndObject();
    }

    private static void WriteDirection(Utf8JsonWriter w, string name, EmulatorDirectionStats d)
    {
        w.WriteStartObject(name);
        w.WriteNumber("received_packets", d.ReceivedPackets);
        w.WriteNumber("received_bytes", d.ReceivedBytes);
        w.WriteNumber("forwarded_packets", d.ForwardedPackets);
        w.WriteNumber("forwarded_bytes", d.ForwardedBytes);
        w.WriteNumber("dropped_loss_packets", d.DroppedLossPackets);
        w.WriteNumber("dropped_queue_packets", d.DroppedQueuePackets);
        w.WriteNumber("dropped_buffer_packets", d.DroppedBufferPackets);
        w.WriteNumber("write_errors", d.WriteErrors);
        w.WriteNumber("max_queue_bytes", d.MaxQueueBytes);
        w.WriteEndObject();
    }
}
