// StatusTests.cs - `laneshim status` against a real broker after real flows: a table with what limited each flow, and JSON.
using System.Text.Json;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Telemetry;

[TestClass]
public sealed class StatusTests
{
    private const string Flow = """
        import socket, sys, time
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        c.sendall(b"z" * (8 << 20)); time.sleep(0.3); c.close()
        """;

    private const string Holder = """
        import socket, sys, time
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        print("connected", flush=True); time.sleep(30)
        """;

    [TestMethod]
    public void Status_ShowsLiveLeaseAndClosedFlowWithItsLimit_TableAndJson()
    {
        using var fx = new TelemetryFixture("class lane rate=1gbit rtt=10ms\nrule -> lane\n");
        ProcessResult flow = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", Flow, fx.SinkPort.ToString()], fx.ShimEnv(), TimeSpan.FromSeconds(30));
        Assert.AreEqual(0, flow.ExitCode, flow.Describe());
        using var holder = new BackgroundProcess(RepoPaths.SystemPython, ["-c", Holder, fx.SinkPort.ToString()], fx.ShimEnv());
        holder.WaitForOutput("connected", TimeSpan.FromSeconds(20));

        ProcessResult table = ProcessRunner.Run(RepoPaths.Cli, ["status", "--broker", $"unix:{fx.Socket}"], timeout: TimeSpan.FromSeconds(20));
        Assert.AreEqual(0, table.ExitCode, table.Describe());
        Console.WriteLine(table.Stdout);
        StringAssert.Contains(table.Stdout, "LEASES (");
        StringAssert.Contains(table.Stdout, "LIMITED BY");
        string flowLine = table.Stdout.Split('\n').Single(l => l.Contains($"127.0.0.1:{fx.SinkPort}", StringComparison.Ordinal) && l.Contains("MiB", StringComparison.Ordinal));
        Assert.IsTrue(new[] { "receiver window", "send buffer", "congestion", "application" }.Any(v => flowLine.Contains(v, StringComparison.Ordinal)), flowLine);

        ProcessResult json = ProcessRunner.Run(RepoPaths.Cli, ["status", "--broker", $"unix:{fx.Socket}", "--json"], timeout: TimeSpan.FromSeconds(20));
        Assert.AreEqual(0, json.ExitCode, json.Describe());
        using JsonDocument doc = JsonDocument.Parse(json.Stdout);
        JsonElement leases = doc.RootElement.GetProperty("leases").GetProperty("leases");
        Assert.IsGreaterThanOrEqualTo(1, leases.GetArrayLength(), json.Stdout);
        JsonElement flows = doc.RootElement.GetProperty("flows").GetProperty("flows");
        Assert.AreEqual(1, flows.GetArrayLength(), json.Stdout);
        Assert.IsFalse(string.IsNullOrEmpty(flows[0].GetProperty("limitedBy").GetString()), json.Stdout);
        Assert.IsGreaterThanOrEqualTo(8L << 20, long.Parse(flows[0].GetProperty("stats").GetProperty("bytesAcked").GetString()!, System.Globalization.CultureInfo.InvariantCulture), json.Stdout);
    }

    [TestMethod]
    public void Status_BrokerNotRunning_ExitsOneWithTheAddress()
    {
        string socket = Path.Combine(Path.GetTempPath(), $"laneshim-nobroker-{Environment.ProcessId}.sock");
        ProcessResult result = ProcessRunner.Run(RepoPaths.Cli, ["status", "--broker", $"unix:{socket}"], timeout: TimeSpan.FromSeconds(20));
        Assert.AreEqual(1, result.ExitCode, result.Describe());
        StringAssert.Contains(result.Stderr, socket);
    }
}
