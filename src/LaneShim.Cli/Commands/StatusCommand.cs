// StatusCommand.cs - `laneshim status`: the broker's live leases and recent flows, with what limited each flow.
using System.CommandLine;
using System.Net;
using System.Text;
using Google.Protobuf;
using LaneShim.Core;
using Grpc.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Cli.Commands;

/// <summary>Builds the `status` verb: two tables (leases, flows), or one JSON object with --json.</summary>
internal static class StatusCommand
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var broker = new Option<string?>("--broker") { Description = "The broker: unix:PATH or tcp:HOST:PORT (default $LANESHIM_BROKER, then " + BrokerAddress.Default + ")." };
        var json = new Option<bool>("--json") { Description = "Print {\"leases\":[...],\"flows\":[...]} (protobuf JSON field names)." };
        var limit = new Option<uint>("--flows") { Description = "How many recent flows to show.", DefaultValueFactory = _ => 20 };
        var cmd = new Command("status", "Show the broker's leases and recent flows, and what limited each flow.") { broker, json, limit };
        cmd.SetAction((parse, ct) => RunAsync(parse.GetValue(broker), parse.GetValue(json), parse.GetValue(limit), ct));
        return cmd;
    }

    private static async Task<int> RunAsync(string? brokerText, bool json, uint limit, CancellationToken ct)
    {
        string text = brokerText ?? Environment.GetEnvironmentVariable("LANESHIM_BROKER") ?? BrokerAddress.Default;
        if (!BrokerAddress.TryParse(text, out BrokerAddress? address, out string error) || address is null)
        {
            return Cli.Fail($"laneshim status: --broker {text}: {error}");
        }
        ListLeasesReply leases;
        ListFlowsReply flows;
        using var broker = BrokerChannel.Open(address, address.Tls ? ClientTls.OptionsFromEnvironment() : null);
        try
        {
            leases = await broker.Client.ListLeasesAsync(new ListLeasesRequest(), deadline: DateTime.UtcNow + Deadline, cancellationToken: ct);
            try
            {
                flows = await broker.Client.ListFlowsAsync(new ListFlowsRequest { Limit = limit }, deadline: DateTime.UtcNow + Deadline, cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
            {
                Console.Error.WriteLine($"laneshim status: broker {address} keeps no flow records (an older broker); showing leases only");
                flows = new ListFlowsReply();
            }
        }
        catch (RpcException e)
        {
            return Cli.Fail($"laneshim status: broker {address}: {e.StatusCode}: {e.Status.Detail}", 1);
        }
        Console.Out.Write(json ? Json(leases, flows) : Table(leases, flows));
        return 0;
    }

    private static string Json(ListLeasesReply leases, ListFlowsReply flows)
    {
        var formatter = new JsonFormatter(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));
        return $"{{\"leases\":{formatter.Format(leases)},\"flows\":{formatter.Format(flows)}}}\n";
    }

    /// <summary>The human view: one line per lease and per flow.</summary>
    internal static string Table(ListLeasesReply leases, ListFlowsReply flows)
    {
        var text = new StringBuilder();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        text.AppendLine($"LEASES ({leases.Leases.Count})");
        var leaseTable = new TextTable("LEASE", "CLASS", "RATE", "FLOW", "PROGRAM", "PID", "EXPIRES", "PATH");
        foreach (Lease l in leases.Leases)
        {
            leaseTable.Add([
                l.LeaseId.Length > 8 ? l.LeaseId[..8] : l.LeaseId, l.Grant?.LaneClass ?? "", Units.FormatRate(l.Grant?.RateBps ?? 0), Describe(l.Flow),
                Path.GetFileName(l.Program?.Path ?? ""), (l.Program?.Pid ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{Math.Max(0, (l.Grant?.ExpiresUnixMs ?? 0) - now) / 1000.0:0.0}s",
                l.Grant is { TopologyVersion: > 0 } g ? $"{g.PathId}@v{g.TopologyVersion}" : l.Grant?.PathId ?? "",
            ]);
        }
        Append(text, leaseTable);
        text.AppendLine();
        text.AppendLine($"FLOWS ({flows.Flows.Count} shown, {flows.FlowsRecorded} closed since the broker started)");
        var flowTable = new TextTable("CLASS", "FLOW", "PROGRAM", "BYTES", "TIME", "ACHIEVED", "GRANTED", "MIN-RTT", "RETRANS", "LIMITED BY", "RWND/SNDBUF/CWND/APP");
        foreach (FlowRecord f in flows.Flows)
        {
            FlowStats s = f.Stats ?? new FlowStats();
            flowTable.Add([
                f.LaneClass, Describe(f.Flow), Path.GetFileName(f.Program?.Path ?? ""), Bytes(Math.Max(s.BytesAcked, s.BytesReceived)),
                Units.FormatDuration(TimeSpan.FromMilliseconds(s.DurationMs)), Units.FormatRate(f.AchievedBps), Units.FormatRate(f.GrantedRateBps),
                Units.FormatDuration(TimeSpan.FromMicroseconds(s.MinRttUs)), s.TotalRetrans.ToString(System.Globalization.CultureInfo.InvariantCulture),
                f.LimitedBy, Shares(s),
            ]);
        }
        Append(text, flowTable);
        return text.ToString();
    }

    // Where the flow's time went, in percent of its duration.
    private static string Shares(FlowStats s)
    {
        double total = Math.Max(1, s.DurationMs * 1000.0);
        ulong cwnd = s.CwndLimitedUs != 0 ? s.CwndLimitedUs : s.BusyTimeUs > s.RwndLimitedUs + s.SndbufLimitedUs ? s.BusyTimeUs - s.RwndLimitedUs - s.SndbufLimitedUs : 0;
        ulong app = s.DurationMs * 1000 > s.BusyTimeUs ? s.DurationMs * 1000 - s.BusyTimeUs : 0;
        return string.Join('/', new[] { s.RwndLimitedUs, s.SndbufLimitedUs, cwnd, app }.Select(us => $"{Math.Min(100, us * 100 / total):0}%"));
    }

    private static string Describe(Flow? flow)
    {
        if (flow is null)
        {
            return "-";
        }
        return $"{End(flow.Local)} > {End(flow.Remote)}";
    }

    private static string End(Endpoint? e)
    {
        if (e is null || e.Address.Length is not (4 or 16))
        {
            return "*";
        }
        var ip = new IPAddress(e.Address.Span);
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }
        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]:{e.Port}" : $"{ip}:{e.Port}";
    }

    private static string Bytes(ulong n) => n switch
    {
        >= 1UL << 30 => $"{n / (double)(1UL << 30):0.0} GiB",
        >= 1UL << 20 => $"{n / (double)(1UL << 20):0.0} MiB",
        >= 1UL << 10 => $"{n / 1024.0:0.0} KiB",
        _ => $"{n} B",
    };

    private static void Append(StringBuilder text, TextTable table)
    {
        foreach (string line in table.Lines())
        {
            text.AppendLine(line);
        }
    }
}
