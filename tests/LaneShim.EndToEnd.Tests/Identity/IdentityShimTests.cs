// IdentityShimTests.cs - an unprivileged program (nobody) under the shim gets SO_MARK, SO_PRIORITY and a forced buffer it could not set itself, applied by the broker on its proven socket.
using System.Text.Json;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Identity;

[TestClass]
public sealed class IdentityShimTests
{
    // 10 Gbit/s x 100 ms = 125 MB: far above rmem_max and the autotuning ceiling, so only SO_*BUFFORCE reaches it.
    private const string Policy = """
        class fat rate=10gbit rtt=100ms mark=0x10 priority=7 ttl=10m
        rule dst=any -> fat
        """;

    private const long Bdp = 125_000_000;
    private static readonly string SockInfo = RepoPaths.File("tests", "e2e", "sockinfo.py");
    private static readonly string[] Nobody = ["/usr/bin/setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"];

    [TestMethod]
    public void UnprivilegedProgram_UnderShim_KernelShowsBrokerAppliedMarkPriorityAndForcedBuffer()
    {
        Privileges.RequireRoot("network namespaces, setpriv, and a broker with CAP_NET_ADMIN");
        Privileges.RequireProgram("/usr/bin/setpriv");
        using var net = new NetnsPair();
        string dir = Directory.CreateTempSubdirectory("laneshim-ident-shim-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        try
        {
            File.WriteAllText(Path.Combine(dir, "lanes.conf"), Policy);
            string socket = Path.Combine(dir, "broker.sock");
            string audit = Path.Combine(dir, "audit.jsonl");
            using var broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{socket}", "--policy", Path.Combine(dir, "lanes.conf"), "--audit", audit]);
            broker.WaitForOutput("listening on", TimeSpan.FromSeconds(60));
            using var server = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, RepoPaths.SystemPython, SockInfo, "server", "5201", "--count", "1"));
            server.WaitForOutput("listening", TimeSpan.FromSeconds(20));
            long rmemMax = long.Parse(File.ReadAllText("/proc/sys/net/core/rmem_max").Trim());

            // What nobody gets alone: SO_MARK and SO_PRIORITY 7 refused, the buffer capped at 2 x rmem_max.
            string[] probe = [RepoPaths.SystemPython, "-c", """
                import json, socket
                s = socket.socket()
                out = {}
                for name, opt, value in (("mark", socket.SO_MARK, 16), ("priority", socket.SO_PRIORITY, 7), ("rcvbuf", socket.SO_RCVBUF, 125000000)):
                    try:
                        s.setsockopt(socket.SOL_SOCKET, opt, value); out[name] = s.getsockopt(socket.SOL_SOCKET, opt)
                    except PermissionError:
                        out[name] = "EPERM"
                print(json.dumps(out))
                """];
            ProcessResult alone = ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(net.A, [.. Nobody, .. probe]), timeout: TimeSpan.FromSeconds(60));
            Assert.AreEqual(0, alone.ExitCode, alone.Describe());
            JsonElement self = JsonDocument.Parse(alone.Stdout).RootElement;
            Assert.AreEqual("EPERM", self.GetProperty("mark").GetString(), alone.Stdout);
            Assert.AreEqual("EPERM", self.GetProperty("priority").GetString(), alone.Stdout);
            Assert.IsLessThanOrEqualTo(2 * rmemMax, self.GetProperty("rcvbuf").GetInt64(), alone.Stdout);

            string[] client = [RepoPaths.SystemPython, SockInfo, "client", net.AddressB, "5201", "--bytes", "100000"];
            // The shim preloaded directly (not `laneshim run`, which would fall back to an embedded, unprivileged broker
            // if this one answered its probe late on a loaded machine).
            string[] wrapped = [.. Nobody, "/usr/bin/env", $"LD_PRELOAD={RepoPaths.Shim}", $"LANESHIM_BROKER=unix:{socket}", "LANESHIM_DEADLINE_MS=2000", .. client];
            ProcessResult run = ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(net.A, wrapped), timeout: TimeSpan.FromSeconds(120));
            Assert.AreEqual(0, run.ExitCode, run.Describe());
            JsonElement lane = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;

            Assert.AreEqual(0x10, lane.GetProperty("mark").GetInt32(), $"lane: {lane}");
            Assert.AreEqual(7, lane.GetProperty("priority").GetInt32(), $"lane: {lane}");
            Assert.AreEqual(2 * Bdp, lane.GetProperty("rcvbuf").GetInt64(), $"lane: {lane}");
            Assert.AreEqual(2 * Bdp, lane.GetProperty("sndbuf").GetInt64(), $"lane: {lane}");
            Assert.IsGreaterThan(2 * rmemMax, lane.GetProperty("rcvbuf").GetInt64());

            ProcessRunner.Run("/bin/kill", ["-TERM", broker.Pid.ToString()]);
            Assert.AreEqual(0, broker.WaitForExit(TimeSpan.FromSeconds(30)), broker.Stderr);
            JsonElement grant = File.ReadAllLines(audit).Select(l => JsonDocument.Parse(l).RootElement)
                .Last(l => l.GetProperty("verdict").GetString() == "grant");
            Assert.AreEqual(65534, grant.GetProperty("uid").GetInt32(), grant.ToString());
            Assert.AreEqual("ok", grant.GetProperty("proof").GetString(), grant.ToString());
            Assert.AreEqual(15, grant.GetProperty("broker_applied").GetInt32(), grant.ToString());
            Assert.AreEqual($"{net.AddressB}:5201", grant.GetProperty("remote").GetString(), grant.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
