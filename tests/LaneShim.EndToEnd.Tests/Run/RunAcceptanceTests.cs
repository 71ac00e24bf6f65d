// RunAcceptanceTests.cs - `laneshim run` on real programs across two network namespaces; the kernel is the judge.
using System.Text.Json;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Run;

[TestClass]
public sealed class RunAcceptanceTests
{
    private const long LaneBdp = 5_000_000; // 1 Gbit/s x 40 ms
    private static readonly string SockInfo = RepoPaths.File("tests", "e2e", "sockinfo.py");
    private static readonly string[] Lane = ["run", "--embedded", "--rate", "1gbit", "--rtt", "40ms", "--cc", "cubic", "--"];

    [TestMethod]
    public void PythonClient_UnderRun_SocketHasCubicFiveMegabyteSendBufferAndPacing()
    {
        Privileges.RequireRoot("network namespaces");
        using var net = new NetnsPair();
        using var server = StartSockInfoServer(net, count: 2);

        JsonElement plain = RunClient(net, wrapped: false);
        JsonElement lane = RunClient(net, wrapped: true);

        string systemDefault = File.ReadAllText("/proc/sys/net/ipv4/tcp_congestion_control").Trim();
        Assert.AreNotEqual("cubic", systemDefault, "the test needs a default other than cubic to tell the lane apart");
        Assert.AreEqual(systemDefault, plain.GetProperty("congestion").GetString(), $"plain: {plain}");
        Assert.IsLessThan(LaneBdp, plain.GetProperty("sndbuf").GetInt64(), $"plain: {plain}");
        Assert.AreEqual(0L, plain.GetProperty("max_pacing_rate").GetInt64(), $"plain: {plain}");

        Assert.AreEqual("cubic", lane.GetProperty("congestion").GetString(), $"lane: {lane}");
        Assert.IsGreaterThanOrEqualTo(LaneBdp, lane.GetProperty("sndbuf").GetInt64(), $"lane: {lane}");
        Assert.AreEqual(125_000_000L, lane.GetProperty("max_pacing_rate").GetInt64(), $"lane: {lane}");
    }

    [TestMethod]
    public void Curl_UnderRun_SocketHasLaneSettings()
    {
        Privileges.RequireRoot("network namespaces");
        Privileges.RequireProgram("/usr/bin/curl");
        using var net = new NetnsPair();
        using var server = StartSockInfoServer(net, count: 1, hold: 20);
        string[] curl = ["/usr/bin/curl", "-s", "-o", "/dev/null", "--max-time", "20", $"http://{net.AddressB}:5201/"];
        using var client = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.A, [RepoPaths.Cli, .. Lane, .. curl]));
        SocketSnapshot socket = WaitForSocket(net.A, 5201, client);
        AssertLane(socket);
    }

    [TestMethod]
    public void Iperf3With64KWindow_UnderRun_DataSocketIsNotCappedAt64K()
    {
        Privileges.RequireRoot("network namespaces");
        Privileges.RequireProgram("/usr/bin/iperf3");
        using var net = new NetnsPair();
        using var server = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, "/usr/bin/iperf3", "-s", "-1", "-p", "5201"));
        WaitForListener(net.B, 5201, server);
        string[] iperf = ["/usr/bin/iperf3", "-c", net.AddressB, "-p", "5201", "-w", "64K", "-t", "4", "-i", "0"];
        using var client = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.A, [RepoPaths.Cli, .. Lane, .. iperf]));
        // The data connection is the one that has sent a lot; the control connection has sent a few bytes.
        SocketSnapshot data = WaitForSocket(net.A, 5201, client, s => s.Raw.Contains("bytes_acked:", StringComparison.Ordinal) && BytesAcked(s) > 1_000_000);
        AssertLane(data);
        Assert.AreEqual(0, client.WaitForExit(TimeSpan.FromSeconds(30)), client.Stderr);
    }

    [TestMethod]
    public void Iperf3With64KWindow_Plain_DataSocketIsCapped()
    {
        Privileges.RequireRoot("network namespaces");
        Privileges.RequireProgram("/usr/bin/iperf3");
        using var net = new NetnsPair();
        using var server = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, "/usr/bin/iperf3", "-s", "-1", "-p", "5201"));
        WaitForListener(net.B, 5201, server);
        using var client = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.A, "/usr/bin/iperf3", "-c", net.AddressB, "-p", "5201", "-w", "64K", "-t", "3", "-i", "0"));
        SocketSnapshot data = WaitForSocket(net.A, 5201, client, s => BytesAcked(s) > 1_000_000);
        Assert.IsLessThan(LaneBdp, data.SendBuffer, data.Raw);
        Assert.IsNull(data.MaxPacingRateBps, data.Raw);
    }

    [TestMethod]
    public void WrappedServer_AcceptedSocket_CarriesLaneSettings()
    {
        Privileges.RequireRoot("network namespaces");
        using var net = new NetnsPair();
        using var server = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, [RepoPaths.Cli, .. Lane, RepoPaths.SystemPython, SockInfo, "server", "5201", "--count", "1"]));
        server.WaitForOutput("listening", TimeSpan.FromSeconds(30));
        ProcessResult c = ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(net.A, RepoPaths.SystemPython, SockInfo, "client", net.AddressB, "5201", "--bytes", "100000"));
        Assert.AreEqual(0, c.ExitCode, c.Describe());
        Assert.AreEqual(0, server.WaitForExit(TimeSpan.FromSeconds(30)), server.Stderr);
        JsonElement accepted = JsonDocument.Parse(server.Stdout.Split('\n').First(l => l.StartsWith('{'))).RootElement;
        Assert.AreEqual("cubic", accepted.GetProperty("congestion").GetString(), accepted.ToString());
        Assert.IsGreaterThanOrEqualTo(LaneBdp, accepted.GetProperty("sndbuf").GetInt64(), accepted.ToString());
        Assert.AreEqual(125_000_000L, accepted.GetProperty("max_pacing_rate").GetInt64(), accepted.ToString());
    }

    [TestMethod]
    public void WrappedServer_ListeningSocket_GetsReceiveBufferBeforeListen()
    {
        Privileges.RequireRoot("network namespaces");
        using var net = new NetnsPair();
        // A 4 Gbit/s x 40 ms lane needs a 20 MB window: window scale 9. A receive-autotuning ceiling of 1 MB cannot
        // cover it, so the lane must set the buffer, and only a buffer set on the listener before the SYN
        // arrives can widen the accepted flow's window scale; without it the scale follows max(tcp_rmem, rmem_max).
        ProcessRunner.Check("/sbin/ip", NetnsPair.Exec(net.B, "sysctl", "-qw", "net.ipv4.tcp_rmem=4096 131072 1048576"));
        int plainScale = AcceptedReceiveWindowScale(net, wrapped: false);
        int laneScale = AcceptedReceiveWindowScale(net, wrapped: true);
        Assert.IsLessThanOrEqualTo(7, plainScale, "plain listener: the window scale follows max(tcp_rmem, rmem_max) = 4 MB");
        Assert.IsGreaterThanOrEqualTo(9, laneScale, $"lane listener: a 20 MB receive window needs window scale 9 (plain was {plainScale})");
    }

    private static int AcceptedReceiveWindowScale(NetnsPair net, bool wrapped)
    {
        string[] server = [RepoPaths.SystemPython, SockInfo, "server", "5201", "--count", "1", "--hold", "20"];
        string[] lane = ["run", "--embedded", "--rate", "4gbit", "--rtt", "40ms", "--"];
        using var s = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, wrapped ? [RepoPaths.Cli, .. lane, .. server] : server));
        s.WaitForOutput("listening", TimeSpan.FromSeconds(30));
        using var c = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.A, RepoPaths.SystemPython, SockInfo, "client", net.AddressB, "5201", "--bytes", "1000"));
        string? details = null;
        s.WaitUntil(() =>
        {
            ProcessResult ss = ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(net.B, "ss", "-tniH", "( sport = :5201 )"));
            details = ss.Stdout.Contains("wscale:", StringComparison.Ordinal) ? ss.Stdout : null;
            return details is not null;
        }, TimeSpan.FromSeconds(30), "accepted a connection");
        string scales = details!.Split("wscale:")[1].Split(' ')[0];
        return int.Parse(scales.Split(',')[1]);
    }

    private static void AssertLane(SocketSnapshot s)
    {
        Assert.AreEqual("cubic", s.Congestion, s.Raw);
        Assert.IsGreaterThanOrEqualTo(LaneBdp, s.SendBuffer, s.Raw);
        Assert.AreEqual(1_000_000_000L, s.MaxPacingRateBps, s.Raw);
    }

    private static long BytesAcked(SocketSnapshot s)
    {
        int i = s.Raw.IndexOf("bytes_acked:", StringComparison.Ordinal);
        return i < 0 ? 0 : long.Parse(new string(s.Raw.AsSpan(i + 12).ToArray().TakeWhile(char.IsAsciiDigit).ToArray()));
    }

    private static BackgroundProcess StartSockInfoServer(NetnsPair net, int count, int hold = 0)
    {
        var server = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, RepoPaths.SystemPython, SockInfo, "server", "5201", "--count", count.ToString(), "--hold", hold.ToString()));
        server.WaitForOutput("listening", TimeSpan.FromSeconds(20));
        return server;
    }

    private static JsonElement RunClient(NetnsPair net, bool wrapped)
    {
        string[] client = [RepoPaths.SystemPython, SockInfo, "client", net.AddressB, "5201", "--bytes", "1000000"];
        // The client reads its socket right after its first connect, which also starts the agent: within the default
        // 20 ms deadline on a loaded machine that connect can go out before the agent is up (fail open; the lane comes
        // late, after the read). What this test checks is the lane's settings, so that connect may wait (README, Limits).
        var env = new Dictionary<string, string?> { ["LANESHIM_DEADLINE_MS"] = "2000" };
        ProcessResult r = ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(net.A, wrapped ? [RepoPaths.Cli, .. Lane, .. client] : client), env, timeout: TimeSpan.FromSeconds(60));
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        return JsonDocument.Parse(r.Stdout.Trim().Split('\n').Last()).RootElement;
    }

    private static void WaitForListener(string ns, int port, BackgroundProcess owner) =>
        owner.WaitUntil(() => ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(ns, "ss", "-tlnH", $"( sport = :{port} )")).Stdout.Contains($":{port}", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), $"listening on {port}");

    private static SocketSnapshot WaitForSocket(string ns, int peerPort, BackgroundProcess owner, Func<SocketSnapshot, bool>? which = null)
    {
        SocketSnapshot? found = null;
        owner.WaitUntil(() => (found = SocketSnapshot.Query(ns, peerPort).FirstOrDefault(which ?? (_ => true))) is not null,
            TimeSpan.FromSeconds(30), $"connected to port {peerPort}");
        return found!;
    }
}
