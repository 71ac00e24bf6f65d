// Iperf3Mover.cs - iperf3 memory-to-memory, with its defaults or with a small window (-w 64K) as many legacy programs set.
using System.Text.Json;

namespace LaneShim.Lab.Demo.Movers;

/// <summary>
/// iperf3 client to an iperf3 server. Goodput is iperf3's own receiver-side bits_per_second (-J). In laneshim mode
/// the server runs under `laneshim run` too: with -w the client tells the server to set the same small receive
/// buffer on its listening socket, and only a wrapped server raises it before listen().
/// </summary>
internal sealed class Iperf3Mover(string name, string? window) : Mover
{
    private const int Port = 5201;
    private static readonly DemoTool Iperf3 = new("/usr/bin/iperf3", "iperf3");

    public override string Name => name;

    public override IReadOnlyList<DemoTool> Tools => [Iperf3];

    public override string ClientProgram => Iperf3.Path;

    public override string Describe(DemoContext context) =>
        $"{Name}: iperf3 -t {DemoFormat.Fixed(context.Settings.IperfDuration.TotalSeconds, 0)}{(window is null ? " with its defaults" : $" -w {window}")}";

    public override DemoServerSpec Server(DemoMode mode, DemoContext context) =>
        new("iperf3 server", [Iperf3.Path, "-s", "-1", "-p", DemoFormat.Invariant(Port)], Port);

    public override IReadOnlyList<string> Client(DemoMode mode, DemoContext context)
    {
        var argv = new List<string> { Iperf3.Path, "-c", context.ServerAddress, "-p", DemoFormat.Invariant(Port),
            "-t", DemoFormat.Fixed(context.Settings.IperfDuration.TotalSeconds, 0), "-J" };
        if (mode == DemoMode.HandTuned)
        {
            argv.AddRange(["-w", DemoFormat.Invariant(context.BdpBytes)]);
        }
        else if (window is not null)
        {
            argv.AddRange(["-w", window]);
        }
        return argv;
    }

    public override string Setup(DemoMode mode, DemoContext context) => mode switch
    {
        DemoMode.Laneshim => window is null
            ? "client and server under laneshim run"
            : $"server also under laneshim run: with -w the server sets the same {window} receive buffer before listen()",
        DemoMode.HandTuned => $"-w {DemoFormat.Invariant(context.BdpBytes)} (the BDP) on the bypass",
        _ => "",
    };

    public override TimeSpan Limit(DemoMode mode, DemoContext context) => context.Settings.IperfDuration + TimeSpan.FromSeconds(20);

    public override long BytesMoved(DemoContext context) => -1;

    public override Goodput Measure(DemoMode mode, ClientOutcome outcome, DemoContext context)
    {
        double wall = outcome.Elapsed.TotalSeconds;
        if (outcome.Capped)
        {
            return Goodput.Failed($"did not finish within {DemoFormat.Fixed(Limit(mode, context).TotalSeconds, 0)} s", wall);
        }
        try
        {
            using JsonDocument doc = JsonDocument.Parse(outcome.Stdout);
            JsonElement root = doc.RootElement;
            if (root.TryGetProperty("error", out JsonElement error))
            {
                return Goodput.Failed($"iperf3: {error.GetString()}", wall);
            }
            JsonElement end = root.GetProperty("end");
            JsonElement received = end.GetProperty("sum_received");
            double bps = received.GetProperty("bits_per_second").GetDouble();
            double seconds = received.GetProperty("seconds").GetDouble();
            string cc = end.TryGetProperty("sender_tcp_congestion", out JsonElement c) ? c.GetString() ?? "?" : "?";
            long retransmits = end.GetProperty("sum_sent").TryGetProperty("retransmits", out JsonElement r) ? r.GetInt64() : -1;
            long bytes = received.GetProperty("bytes").GetInt64();
            string ok = outcome.ExitCode == 0 ? "" : $"exit {outcome.ExitCode}; ";
            return new Goodput(outcome.ExitCode == 0, bps / 1e6, seconds,
                $"{ok}iperf3 receiver: {DemoFormat.Bytes(bytes)} in {DemoFormat.Seconds(seconds)}, cc {cc}, {retransmits} retransmits");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Goodput.Failed($"exit {outcome.ExitCode}, no iperf3 report ({e.Message}): {outcome.LastWords()}", wall);
        }
    }
}
