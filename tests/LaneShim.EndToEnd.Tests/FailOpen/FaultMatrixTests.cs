// FaultMatrixTests.cs - 10,000 connects under the shim against every way a broker can fail: none fails, none waits past deadline + 5 ms.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.FailOpen;

[TestClass]
public sealed class FaultMatrixTests
{
    private const int DeadlineMs = 20;
    // Many short processes: after a failure the agent backs off, so each process meets the fault on its first few
    // connects; the rest of its connects show that backing off costs nothing.
    private const int Processes = 16;
    private const int ConnectsPerProcess = 50;
    private const int MinimumKills = 5;
    private const int Ports = 64;
    private const string Policy = "class bulk rate=1gbit rtt=40ms cc=cubic ttl=10m\nrule -> bulk\n";

    /// <summary>Set by MSTest: the table goes into the test's output whether it passes or fails.</summary>
    public TestContext? TestContext { get; set; }

    private static readonly string[] BadBrokerModes =
        ["hang", "settings-only", "garbage", "close", "malformed", "wrong-status", "huge", "die", "bad-grant"];

    [TestMethod]
    public void TenThousandConnects_EveryBrokerFault_NoFailureWithinDeadline()
    {
        Privileges.RequireRoot("runs a program as another user and kills brokers");
        string dir = Directory.CreateTempSubdirectory("laneshim-faults-").FullName;
        using var acceptors = new Acceptors(Ports);
        var rows = new List<string>();
        var problems = new List<string>();
        int total = 0;
        try
        {
            File.WriteAllText(Path.Combine(dir, "lanes.conf"), Policy);
            foreach (string scenario in (string[])["absent", "missing-socket", "wrong-permissions", .. BadBrokerModes, "killed"])
            {
                ScenarioResult r = RunScenario(scenario, dir, acceptors.FirstPort);
                total += r.Connects;
                rows.Add($"{scenario,-18} {r.Connects,6} connects {r.Failures,3} failed  median {r.MedianUs,6} us  p99.9 {r.P999Us,6} us  max {r.WorstUs,6} us  faults injected {r.Injected}");
                if (r.Failures > 0)
                {
                    problems.Add($"{scenario}: {r.Failures} connects failed: {r.Errors}");
                }
                if (r.WorstUs > (DeadlineMs + 5) * 1000L)
                {
                    problems.Add($"{scenario}: slowest connect {r.WorstUs} us > deadline {DeadlineMs} ms + 5 ms");
                }
                if (r.Injected < r.MinimumInjected)
                {
                    problems.Add($"{scenario}: the fault was injected {r.Injected} times, fewer than {r.MinimumInjected}: the matrix did not test it");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        string table = string.Join("\n", rows);
        Console.WriteLine(table);
        TestContext?.WriteLine(table);
        Console.WriteLine($"total: {total} connects");
        Assert.IsGreaterThanOrEqualTo(10_000, total, table);
        Assert.IsEmpty(problems, string.Join("\n", problems) + "\n" + table);
    }

    private static ScenarioResult RunScenario(string scenario, string dir, int firstPort)
    {
        string socket = Path.Combine(dir, scenario + ".sock");
        string address = scenario == "absent" ? "unix:/nonexistent-laneshim-dir/broker.sock" : $"unix:{socket}";
        BackgroundProcess? server = null;
        BrokerKiller? killer = null;
        string? runAs = null;
        try
        {
            switch (scenario)
            {
                case "absent" or "missing-socket":
                    break;
                case "wrong-permissions":
                    // A working broker whose socket the program may not open: connect() gets EACCES.
                    server = StartBroker(socket, dir);
                    File.SetUnixFileMode(socket, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
                    runAs = "65534";
                    ProcessResult probe = ProcessRunner.Run("/usr/bin/setpriv", ["--reuid", runAs, "--regid", runAs, "--clear-groups", RepoPaths.SystemPython, "-c",
                        $"import socket; s = socket.socket(socket.AF_UNIX); s.connect('{socket}')"]);
                    Assert.Contains("PermissionError", probe.Stderr, $"the broker socket should refuse uid {runAs}: {probe.Describe()}");
                    break;
                case "killed":
                    killer = new BrokerKiller(() => StartBroker(socket, dir));
                    break;
                default:
                    server = new BackgroundProcess(RepoPaths.SystemPython, [RepoPaths.File("tests", "e2e", "bad_broker.py"), scenario, socket]);
                    server.WaitForOutput("listening", TimeSpan.FromSeconds(10));
                    break;
            }

            var result = new ScenarioResult();
            for (int p = 0; p < Processes || (killer is not null && killer.Kills < MinimumKills && p < 10 * Processes); p++)
            {
                RunProcess(address, firstPort, p % 2 == 1, runAs, result);
            }

            result.Injected = scenario switch
            {
                "killed" => killer!.Kills,
                "wrong-permissions" or "absent" or "missing-socket" => 0, // a fault of the socket itself: nothing to count
                _ => server!.Stdout.Split('\n').Count(l => l.StartsWith("request ", StringComparison.Ordinal)),
            };
            result.MinimumInjected = scenario switch
            {
                "killed" => MinimumKills,
                "hang" or "settings-only" or "garbage" or "close" or "wrong-permissions" or "absent" or "missing-socket" => 0,
                _ => Processes,
            };
            return result;
        }
        finally
        {
            killer?.Dispose();
            server?.Dispose();
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void RunProcess(string broker, int firstPort, bool nonblocking, string? runAs, ScenarioResult result)
    {
        var env = new Dictionary<string, string?>
        {
            ["LD_PRELOAD"] = RepoPaths.Shim,
            ["LANESHIM_AGENT"] = RepoPaths.Agent,
            ["LANESHIM_BROKER"] = broker,
            ["LANESHIM_INCLUDE_LOOPBACK"] = "1",
            ["LANESHIM_DEADLINE_MS"] = DeadlineMs.ToString(),
        };
        string[] timer = [RepoPaths.File("tests", "e2e", "connect_timer.py"), "127.0.0.1", $"{firstPort}-{firstPort + Ports - 1}",
            ConnectsPerProcess.ToString(), nonblocking ? "nonblocking" : "blocking"];
        ProcessResult r = runAs is null
            ? ProcessRunner.Run(RepoPaths.SystemPython, timer, env, TimeSpan.FromSeconds(120))
            : ProcessRunner.Run("/usr/bin/setpriv", ["--reuid", runAs, "--regid", runAs, "--clear-groups", RepoPaths.SystemPython, .. timer], env, TimeSpan.FromSeconds(120));
        result.Connects += ConnectsPerProcess;
        if (r.ExitCode != 0)
        {
            result.Failures += ConnectsPerProcess;
            result.Errors.Append(r.Describe());
            return;
        }
        JsonElement json = JsonDocument.Parse(r.Stdout).RootElement;
        result.Failures += json.GetProperty("failures").GetInt32();
        foreach (JsonElement e in json.GetProperty("errors").EnumerateArray())
        {
            result.Errors.Append(e.GetString()).Append("; ");
        }
        result.Times.AddRange(json.GetProperty("us").EnumerateArray().Select(e => e.GetInt64()));
    }

    private static BackgroundProcess StartBroker(string socket, string dir)
    {
        var broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{socket}", "--policy", Path.Combine(dir, "lanes.conf")]);
        broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
        return broker;
    }

    private sealed class ScenarioResult
    {
        public List<long> Times { get; } = [];

        public int Failures { get; set; }

        public StringBuilder Errors { get; } = new();

        public int Injected { get; set; }

        public int MinimumInjected { get; set; }

        public int Connects { get; set; }

        public long MedianUs => Times.Count == 0 ? 0 : Times.Order().ElementAt(Times.Count / 2);

        public long P999Us => Times.Count == 0 ? 0 : Times.Order().ElementAt(Math.Min(Times.Count - 1, (int)Math.Ceiling(Times.Count * 0.999) - 1));

        public long WorstUs => Times.Count == 0 ? 0 : Times.Max();
    }

    // Restarts a real broker and SIGKILLs it at random moments, calls in flight or not, until disposed.
    private sealed class BrokerKiller : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private int _kills;

        public BrokerKiller(Func<BackgroundProcess> start)
        {
            BackgroundProcess first = start();
            _thread = new Thread(() => Loop(start, first)) { IsBackground = true };
            _thread.Start();
        }

        public int Kills => Volatile.Read(ref _kills);

        private void Loop(Func<BackgroundProcess> start, BackgroundProcess current)
        {
            var random = new Random(Environment.ProcessId);
            while (true)
            {
                _stop.Token.WaitHandle.WaitOne(random.Next(20, 200));
                Process.GetProcessById(current.Pid).Kill();
                current.WaitForExit(TimeSpan.FromSeconds(10));
                current.Dispose();
                Interlocked.Increment(ref _kills);
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
                current = start();
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join(TimeSpan.FromSeconds(60));
        }
    }

    // Listeners on consecutive loopback ports that accept and close, so 10,000 connects never fill a backlog.
    private sealed class Acceptors : IDisposable
    {
        private readonly List<TcpListener> _listeners = [];
        private readonly CancellationTokenSource _stop = new();

        public Acceptors(int count)
        {
            var random = new Random();
            for (int attempt = 0; attempt < 50 && _listeners.Count < count; attempt++)
            {
                Close();
                FirstPort = random.Next(20_000, 60_000 - count);
                try
                {
                    for (int i = 0; i < count; i++)
                    {
                        var listener = new TcpListener(IPAddress.Loopback, FirstPort + i);
                        listener.Start(4096);
                        _listeners.Add(listener);
                    }
                }
                catch (SocketException)
                {
                }
            }
            Assert.HasCount(count, _listeners, "no free range of loopback ports");
            foreach (TcpListener listener in _listeners)
            {
                _ = AcceptLoop(listener);
            }
        }

        public int FirstPort { get; private set; }

        private async Task AcceptLoop(TcpListener listener)
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    using Socket s = await listener.AcceptSocketAsync(_stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private void Close()
        {
            foreach (TcpListener l in _listeners)
            {
                l.Stop();
            }
            _listeners.Clear();
        }

        public void Dispose()
        {
            _stop.Cancel();
            Close();
        }
    }
}
