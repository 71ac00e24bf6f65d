// DoctorJson.cs - the doctor's report as one JSON document (Utf8JsonWriter: no reflection, trimming-safe).
using System.Text.Encodings.Web;
using System.Text.Json;
using LaneShim.Core;
using LaneShim.Core.Doctor;

namespace LaneShim.Cli.Doctor;

/// <summary>Writes reports and apply/revert outcomes as JSON.</summary>
internal static class DoctorJson
{
    // Relaxed escaping keeps quotes in fix commands readable; the output is never embedded in HTML.
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The report, with what --apply did when it ran.</summary>
    public static void Write(Stream output, DoctorReport report, SysctlFileOutcome? applied, int exitCode, IReadOnlyList<BpfCheck>? bpf = null)
    {
        using var w = new Utf8JsonWriter(output, Options);
        w.WriteStartObject();
        w.WriteString("kernel", report.Host.KernelRelease);
        WriteNullable(w, "initialNetworkNamespace", report.Host.InitialNetworkNamespace);
        w.WriteNumber("exitCode", exitCode);
        w.WriteBoolean("limitsThroughput", report.LimitsThroughput);
        w.WriteStartObject("counts");
        w.WriteNumber("ok", report.Count(Severity.Ok));
        w.WriteNumber("warn", report.Count(Severity.Warn));
        w.WriteNumber("limitsThroughput", report.Count(Severity.LimitsThroughput));
        w.WriteEndObject();

        w.WriteStartArray("lanes");
        foreach (LaneSummary lane in report.Lanes)
        {
            WriteLane(w, lane);
        }

        w.WriteEndArray();

        w.WriteStartArray("egress");
        foreach (EgressPath path in report.Host.Paths)
        {
            WritePath(w, path);
        }

        w.WriteEndArray();

        w.WriteStartArray("findings");
        foreach (Finding f in report.Findings)
        {
            WriteFinding(w, f);
        }

        w.WriteEndArray();

        w.WriteStartArray("sysctlFixes");
        foreach (SysctlChange c in report.Changes)
        {
            w.WriteStartObject();
            w.WriteString("key", c.Key);
            w.WriteString("value", c.Value);
            w.WriteString("command", c.Command);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (applied is not null)
        {
            w.WritePropertyName("applied");
            WriteOutcome(w, applied);
        }

        if (bpf is not null)
        {
            w.WriteStartObject("bpfPath");
            w.WriteBoolean("ready", bpf.All(c => c.Ok));
            w.WriteStartArray("checks");
            foreach (BpfCheck c in bpf)
            {
                w.WriteStartObject();
                w.WriteString("name", c.Name);
                w.WriteBoolean("ok", c.Ok);
                w.WriteString("detail", c.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.Flush();
        output.WriteByte((byte)'\n');
    }

    /// <summary>What --revert did.</summary>
    public static void WriteReverted(Stream output, SysctlFileOutcome reverted, int exitCode)
    {
        using var w = new Utf8JsonWriter(output, Options);
        w.WriteStartObject();
        w.WriteNumber("exitCode", exitCode);
        w.WritePropertyName("reverted");
        WriteOutcome(w, reverted);
        w.WriteEndObject();
        w.Flush();
        output.WriteByte((byte)'\n');
    }

    /// <summary>"loaded", "unchanged", "read-only", "failed".</summary>
    public static string StatusText(LoadStatus status) => status switch
    {
        LoadStatus.Loaded => "loaded",
        LoadStatus.Unchanged => "unchanged",
        LoadStatus.ReadOnly => "read-only",
        _ => "failed",
    };

    private static void WriteLane(Utf8JsonWriter w, LaneSummary lane)
    {
        w.WriteStartObject();
        w.WriteString("name", lane.Lane.Name);
        w.WriteNumber("rateBps", lane.Lane.RateBps);
        w.WriteString("rate", Units.FormatRate(lane.Lane.RateBps));
        w.WriteNumber("rttMicroseconds", lane.Lane.Rtt.Rtt.Ticks / 10);
        w.WriteString("rtt", lane.Lane.Rtt.Describe());
        w.WriteString("rttSource", lane.Lane.Rtt.Source.ToString().ToLowerInvariant());
        w.WriteNumber("bdpBytes", lane.BdpBytes);
        w.WriteString("bdp", lane.Lane.DescribeBdp());
        w.WriteString("congestion", lane.Lane.Congestion);
        w.WriteNumber("topsOutAtBps", lane.TopsOutAtBps);
        w.WriteBoolean("limited", lane.Limited);
        WriteDirection(w, "send", lane.Send);
        WriteDirection(w, "receive", lane.Receive);
        WriteNullable(w, "linkBps", lane.LinkBps);
        w.WriteEndObject();
    }

    private static void WriteDirection(Utf8JsonWriter w, string name, DirectionLimit d)
    {
        w.WriteStartObject(name);
        w.WriteString("mode", d.Mode.ToString().ToLowerInvariant());
        w.WriteNumber("windowBytes", d.WindowBytes);
        w.WriteNumber("topsOutAtBps", d.TopsOutAtBps);
        w.WriteStartArray("limitedBy");
        foreach (string id in d.LimitedBy)
        {
            w.WriteStringValue(id);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WritePath(Utf8JsonWriter w, EgressPath p)
    {
        w.WriteStartObject();
        w.WriteString("destination", p.Destination);
        w.WriteString("device", p.Device);
        w.WriteString("gateway", p.Gateway);
        w.WriteString("source", p.Source);
        WriteNullable(w, "mtu", p.Mtu);
        WriteNullable(w, "routeMtu", p.RouteMtu);
        WriteNullable(w, "txQueueLen", p.TxQueueLen);
        WriteNullable(w, "speedMbps", p.SpeedMbps);
        w.WriteString("rootQdisc", p.RootQdisc);
        w.WriteStartArray("childQdiscs");
        foreach (string k in p.ChildQdiscs)
        {
            w.WriteStringValue(k);
        }

        w.WriteEndArray();
        w.WriteString("error", p.Error);
        w.WriteEndObject();
    }

    private static void WriteFinding(Utf8JsonWriter w, Finding f)
    {
        w.WriteStartObject();
        w.WriteString("id", f.Id);
        w.WriteString("scope", f.Scope);
        w.WriteString("severity", f.Severity.ToText());
        w.WriteString("measured", f.Measured);
        w.WriteString("needed", f.Needed);
        w.WriteString("why", f.Why);
        w.WriteString("fix", f.Fix);
        if (f.Change is null)
        {
            w.WriteNull("sysctl");
        }
        else
        {
            w.WriteStartObject("sysctl");
            w.WriteString("key", f.Change.Key);
            w.WriteString("value", f.Change.Value);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteOutcome(Utf8JsonWriter w, SysctlFileOutcome o)
    {
        w.WriteStartObject();
        w.WriteString("file", o.File);
        w.WriteString("action", o.FileAction);
        w.WriteString("backup", o.Backup);
        w.WriteStartArray("values");
        foreach (LoadedValue v in o.Values)
        {
            w.WriteStartObject();
            w.WriteString("key", v.Key);
            w.WriteString("before", v.Before);
            w.WriteString("value", v.Value);
            w.WriteString("status", StatusText(v.Status));
            w.WriteString("message", v.Message);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is long v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, ulong? value)
    {
        if (value is ulong v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, bool? value)
    {
        if (value is bool v)
        {
            w.WriteBoolean(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
