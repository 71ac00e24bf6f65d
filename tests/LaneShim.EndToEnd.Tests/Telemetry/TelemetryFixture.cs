// TelemetryFixture.cs - a real broker process (Unix socket, optional /metrics) and a plain loopback sink, for telemetry tests.
using Grpc.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using LaneShim.Testing;

namespace LaneShim.EndToEnd.Tests.Telemetry;

/// <summary>One temp dir, one broker, one sink; everything goes on dispose.</summary>
internal sealed class TelemetryFixture : IDisposable
{
    // Accepts connections and reads each to EOF (plain python, never under the shim).
    private const string Sink = """
        import socket, sys, threading
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
        print(s.getsockname()[1], flush=True)
        def drain(c):
            while c.recv(1 << 20): pass
            c.close()
        while True:
            c, _ = s.accept(); threading.Thread(target=drain, args=(c,), daemon=True).start()
        """;

    // The same, but a slow reader with a 4 KB receive buffer: its window, not the network, limits every flow.
    private const string SlowSink = """
        import socket, sys, threading, time
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind(("127.0.0.1", 0)); s.listen(64)
        print(s.getsockname()[1], flush=True)
        def drain(c):
            while c.recv(4096): time.sleep(0.002)
            c.close()
        while True:
            c, _ = s.accept(); threading.Thread(target=drain, args=(c,), daemon=True).start()
        """;

    private readonly string _dir;
    private readonly BackgroundProcess _broker;
    private readonly BackgroundProcess _sink;

    public TelemetryFixture(string policy, bool metrics = false, string? topology = null, bool slowSink = false, bool socketProof = false)
    {
        _dir = Directory.CreateTempSubdirectory("laneshim-telem-").FullName;
        try
        {
            string policyFile = PolicyFile = Path.Combine(_dir, "lanes.conf");
            File.WriteAllText(policyFile, policy);
            Socket = Path.Combine(_dir, "broker.sock");
            string topologyFile = TopologyFile = Path.Combine(_dir, "site.topo");
            if (topology is not null)
            {
                File.WriteAllText(topologyFile, topology);
            }
            // --no-socket-proof: besides real programs under the shim, the tests ask for made-up flows (no real socket to prove).
            // With the proof (socketProof), the broker watches proven per-flow connections in the kernel.
            string[] args = ["broker", "--listen", $"unix:{Socket}", "--policy", policyFile, "--verbose", .. socketProof ? Array.Empty<string>() : ["--no-socket-proof"],
                .. metrics ? new[] { "--metrics", "http://127.0.0.1:0" } : [], .. topology is not null ? new[] { "--topology", topologyFile, "--enforce", "dry-run" } : []];
            _broker = new BackgroundProcess(RepoPaths.Cli, args);
            _broker.WaitForOutput(metrics ? "metrics on" : "listening on", TimeSpan.FromSeconds(30));
            if (metrics)
            {
                string line = _broker.Stdout.Split('\n').First(l => l.Contains("metrics on", StringComparison.Ordinal));
                MetricsUrl = line[(line.IndexOf("http://", StringComparison.Ordinal))..].Trim();
            }
            _sink = new BackgroundProcess(RepoPaths.SystemPython, ["-c", slowSink ? SlowSink : Sink]);
            _sink.WaitUntil(() => _sink.Stdout.Contains('\n'), TimeSpan.FromSeconds(10), "sink listening");
            SinkPort = int.Parse(_sink.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Client = BrokerChannel.Open(BrokerAddress.Unix(Socket));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Socket { get; } = "";

    public string? MetricsUrl { get; }

    public string TopologyFile { get; } = "";

    public string PolicyFile { get; } = "";

    public int BrokerPid => _broker.Pid;

    public int SinkPort { get; }

    public BrokerChannel Client { get; } = null!;

    public string BrokerLog => _broker.Stdout + _broker.Stderr;

    /// <summary>The environment that puts a program under the shim, talking to this broker, loopback included.</summary>
    public Dictionary<string, string?> ShimEnv() => new()
    {
        ["LD_PRELOAD"] = RepoPaths.Shim,
        ["LANESHIM_AGENT"] = RepoPaths.Agent,
        ["LANESHIM_BROKER"] = $"unix:{Socket}",
        ["LANESHIM_INCLUDE_LOOPBACK"] = "1",
        ["LANESHIM_DEADLINE_MS"] = "1000", // a loaded test machine; the deadline is not what these tests measure
    };

    public IReadOnlyList<Lease> Leases() => Client.ListLeases(new ListLeasesRequest(), TimeSpan.FromSeconds(5)).Leases;

    public void Dispose()
    {
        Client?.Dispose();
        _sink?.Dispose();
        _broker?.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
