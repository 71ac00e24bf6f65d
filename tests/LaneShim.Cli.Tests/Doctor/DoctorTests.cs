// DoctorTests.cs - `laneshim doctor` run for real in a network namespace with known-bad sysctls; --apply/--revert round trips.
using System.Globalization;
using System.Text.Json;
using LaneShim.Core;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Cli.Tests.Doctor;

[TestClass]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DoctorTests
{
    private const long Bdp = 5_000_000; // 1 Gbit/s x 40 ms
    private static readonly string[] Lane = ["--lane", "1gbit", "--rtt", "40ms"];

    // Per-namespace sysctls and the bad values the tests give them (net.core.{r,w}mem_max are global on this kernel).
    private static readonly (string Key, string Bad, string Good)[] PerNamespace =
    [
        ("net.ipv4.tcp_wmem", "4096 16384 1048576", "4096 16384 10000000"),
        ("net.ipv4.tcp_rmem", "4096 131072 1048576", "4096 131072 10000000"),
        ("net.ipv4.tcp_window_scaling", "0", "1"),
        ("net.ipv4.tcp_moderate_rcvbuf", "0", "1"),
        ("net.ipv4.tcp_mtu_probing", "0", "1"),
        ("net.mptcp.enabled", "0", "1"),
        ("net.ipv4.tcp_shrink_window", "1", "0"),
    ];

    [TestMethod]
    public void Doctor_NamespaceWithBadSysctls_ReportsEachFindingWithItsArithmetic()
    {
        Privileges.RequireRoot("network namespaces and per-namespace sysctls");
        using var net = new NetnsPair();
        string dev = PrepareNamespace(net);
        SetAll(net.A, bad: true);
        long wmemMax = ReadGlobal("net.core.wmem_max");
        long rmemMax = ReadGlobal("net.core.rmem_max");

        ProcessResult r = Doctor(net.A, [.. Lane, "--json"]);

        Assert.AreEqual(1, r.ExitCode, r.Describe());
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        JsonElement root = doc.RootElement;
        Assert.AreEqual(1, root.GetProperty("exitCode").GetInt32());
        Assert.IsFalse(root.GetProperty("initialNetworkNamespace").GetBoolean(), r.Stdout);
        JsonElement lane = root.GetProperty("lanes")[0];
        Assert.AreEqual(Bdp, lane.GetProperty("bdpBytes").GetInt64());
        Assert.AreEqual(13_107_000UL, lane.GetProperty("send").GetProperty("topsOutAtBps").GetUInt64(), "65,535 B x 8 / 40 ms");
        Assert.AreEqual(13_107_000UL, lane.GetProperty("receive").GetProperty("topsOutAtBps").GetUInt64());
        Assert.AreEqual("net.ipv4.tcp_window_scaling", lane.GetProperty("send").GetProperty("limitedBy")[0].GetString());

        Expect(root, "net.ipv4.tcp_window_scaling", "limits-throughput", "0", "1", "a single stream tops out at about 13.1 Mbit/s (65,535 B x 8 / 40 ms)");
        Expect(root, "net.ipv4.tcp_wmem", wmemMax >= Bdp ? "warn" : "limits-throughput", "4096 16384 1048576", "4096 16384 10000000",
            "an autotuned stream tops out at about 105 Mbit/s (512 KiB x 8 / 40 ms)");
        Expect(root, "net.ipv4.tcp_rmem", rmemMax >= Bdp ? "warn" : "limits-throughput", "4096 131072 1048576", "4096 131072 10000000",
            "an autotuned stream tops out at about 105 Mbit/s (512 KiB x 8 / 40 ms)");
        JsonElement wmem = Expect(root, "net.core.wmem_max", wmemMax >= Bdp ? "ok" : "limits-throughput", wmemMax.ToString(CultureInfo.InvariantCulture), "5000000",
            wmemMax >= Bdp ? "lets an unprivileged program set SO_SNDBUF" : $"net.core.wmem_max is {Units.FormatSize(wmemMax)}, so a single stream tops out at about {Units.FormatRate((ulong)wmemMax * 8 * 25)}");
        if (wmemMax < Bdp)
        {
            Assert.Contains("read-only in this network namespace, so run the fix in the initial namespace", wmem.GetProperty("why").GetString()!);
        }

        Expect(root, "net.core.rmem_max", rmemMax >= Bdp ? "ok" : "limits-throughput", rmemMax.ToString(CultureInfo.InvariantCulture), "5000000", "SO_RCVBUF");
        Expect(root, "net.ipv4.tcp_moderate_rcvbuf", "warn", "0", "1", "a socket that does not set SO_RCVBUF offers about 64 KiB and tops out at about 13.1 Mbit/s (64 KiB x 8 / 40 ms)");
        Expect(root, "net.mptcp.enabled", "warn", "0", "1", "MPTCP is off");
        Expect(root, "net.ipv4.tcp_shrink_window", "warn", "1", "0", "may shrink its advertised window");
        Expect(root, "net.ipv4.tcp_mtu_probing", "warn", "0", "1", $"{dev} has MTU 9000");
        Expect(root, "net.core.netdev_max_backlog", "ok", "not visible here", "139", "1 Gbit/s at MTU 9000 is 13,889 packets/s, so 10 ms of input is 139 packets");
        Expect(root, "txqueuelen", "warn", "100", "1000", "the queue holds only 100 packets (900.00 kB at MTU 9000, 7.2 ms at 1 Gbit/s)");
        Expect(root, "link-speed", "ok", "10 Gbit/s", "1 Gbit/s", $"{dev} runs at 10 Gbit/s");
        Expect(root, "mtu", "ok", "9000", "9000", "MTU 9000: 1 Gbit/s is about 13,889 packets/s each way");
        Expect(root, "route", "ok", $"default dev {dev} via {net.AddressB}", "a route", $"leaves by {dev} via {net.AddressB}");
        Expect(root, "congestion-control", "ok", Namespaced(net.A, "net.ipv4.tcp_congestion_control"), "default", "system default");
        JsonElement pacing = Finding(root, "pacing");
        Assert.AreEqual("pfifo_fast", pacing.GetProperty("measured").GetString());
        Assert.AreNotEqual("limits-throughput", pacing.GetProperty("severity").GetString());
        StringAssert.Contains(pacing.GetProperty("why").GetString(), "SO_MAX_PACING_RATE");

        string[] fixes = root.GetProperty("sysctlFixes").EnumerateArray().Select(f => f.GetProperty("key").GetString()!).ToArray();
        CollectionAssert.IsSubsetOf(new[] { "net.ipv4.tcp_wmem", "net.ipv4.tcp_rmem", "net.ipv4.tcp_window_scaling", "net.ipv4.tcp_moderate_rcvbuf", "net.mptcp.enabled" }, fixes);
    }

    [TestMethod]
    public void Doctor_NamespaceAfterFixes_EveryFindingOkAndExitZero()
    {
        Privileges.RequireRoot("network namespaces and per-namespace sysctls");
        using var net = new NetnsPair();
        string dev = PrepareNamespace(net);
        SetAll(net.A, bad: true);
        SetAll(net.A, bad: false);
        ProcessRunner.Check("/sbin/ip", "-n", net.A, "link", "set", "dev", dev, "txqueuelen", "1000");
        // fq where the kernel has it; otherwise TCP's internal pacing is the expected (ok) answer.
        ProcessRunner.Run("/sbin/ip", ["netns", "exec", net.A, "tc", "qdisc", "replace", "dev", dev, "root", "fq"]);

        // net.core.{w,r}mem_max are global: raise them only if needed, and put them back.
        long wmemMax = ReadGlobal("net.core.wmem_max");
        long rmemMax = ReadGlobal("net.core.rmem_max");
        try
        {
            WriteGlobal("net.core.wmem_max", Math.Max(wmemMax, Bdp));
            WriteGlobal("net.core.rmem_max", Math.Max(rmemMax, Bdp));

            ProcessResult r = Doctor(net.A, [.. Lane, "--json"]);

            Assert.AreEqual(0, r.ExitCode, r.Describe());
            using JsonDocument doc = JsonDocument.Parse(r.Stdout);
            JsonElement root = doc.RootElement;
            string[] notOk = root.GetProperty("findings").EnumerateArray()
                .Where(f => f.GetProperty("severity").GetString() != "ok")
                .Select(f => $"{f.GetProperty("id").GetString()}: {f.GetProperty("severity").GetString()}: {f.GetProperty("why").GetString()}")
                .ToArray();
            Assert.IsEmpty(notOk, string.Join("\n", notOk));
            Assert.AreEqual(1_000_000_000UL, root.GetProperty("lanes")[0].GetProperty("topsOutAtBps").GetUInt64());
            Assert.AreEqual(0, root.GetProperty("sysctlFixes").GetArrayLength());
            Expect(root, "net.ipv4.tcp_wmem", "ok", "4096 16384 10000000", "4096 16384 10000000", "at least 2 x 5.00 MB");
        }
        finally
        {
            WriteGlobal("net.core.wmem_max", wmemMax);
            WriteGlobal("net.core.rmem_max", rmemMax);
        }

        Assert.AreEqual(wmemMax, ReadGlobal("net.core.wmem_max"));
        Assert.AreEqual(rmemMax, ReadGlobal("net.core.rmem_max"));
    }

    [TestMethod]
    [DataRow(true, DisplayName = "with a previous 90-laneshim.conf")]
    [DataRow(false, DisplayName = "without a previous file")]
    public void ApplyThenRevert_TwiceEach_LeavesFilesAndValuesExactlyAsBefore(bool previousFile)
    {
        Privileges.RequireRoot("network namespaces and per-namespace sysctls");
        using var net = new NetnsPair();
        PrepareNamespace(net);
        SetAll(net.A, bad: true);
        string dir = Directory.CreateTempSubdirectory("laneshim-sysctl-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "10-site.conf"), "net.ipv4.tcp_sack = 1\n");
            if (previousFile)
            {
                File.WriteAllText(Path.Combine(dir, "90-laneshim.conf"), "# site tuning\nnet.ipv4.tcp_rmem = 4096 131072 2097152\n");
            }

            string[] globals = ["net.core.wmem_max", "net.core.rmem_max"];
            var globalsBefore = globals.ToDictionary(k => k, ReadGlobal);
            var filesBefore = Files(dir);
            var valuesBefore = Values(net.A);
            string[] apply = [.. Lane, "--apply", "--sysctl-dir", dir, "--json"];

            ProcessResult first = Doctor(net.A, apply);
            Assert.AreEqual(0, first.ExitCode, first.Describe()); // per-namespace fixes loaded; the rest only warns
            JsonElement applied = JsonDocument.Parse(first.Stdout).RootElement.GetProperty("applied");
            Assert.AreEqual("written", applied.GetProperty("action").GetString(), first.Stdout);
            var statuses = applied.GetProperty("values").EnumerateArray().ToDictionary(v => v.GetProperty("key").GetString()!, v => v.GetProperty("status").GetString());
            Assert.AreEqual("loaded", statuses["net.ipv4.tcp_wmem"], first.Stdout);
            Assert.AreEqual("loaded", statuses["net.ipv4.tcp_window_scaling"], first.Stdout);
            foreach (string key in globals.Where(statuses.ContainsKey))
            {
                Assert.AreEqual("read-only", statuses[key], $"{key} is global: a namespace cannot change it\n{first.Stdout}");
            }

            var filesApplied = Files(dir);
            var valuesApplied = Values(net.A);
            Assert.AreEqual("4096 16384 10000000", valuesApplied["net.ipv4.tcp_wmem"]);
            Assert.AreEqual("4096 131072 10000000", valuesApplied["net.ipv4.tcp_rmem"]);
            Assert.AreEqual("1", valuesApplied["net.ipv4.tcp_window_scaling"]);
            string conf = File.ReadAllText(Path.Combine(dir, "90-laneshim.conf"));
            Assert.Contains("net.ipv4.tcp_wmem = 4096 16384 10000000\n", conf);
            Assert.Contains("net.ipv4.tcp_window_scaling = 1\n", conf);
            if (previousFile)
            {
                Assert.StartsWith("# site tuning\nnet.ipv4.tcp_rmem = 4096 131072 2097152\n\n# laneshim doctor --apply:", conf, "the previous file's lines stay, ours follow and win");
                Assert.AreEqual(filesBefore["90-laneshim.conf"], filesApplied["90-laneshim.conf.laneshim-backup"]);
            }
            else
            {
                Assert.IsFalse(filesApplied.ContainsKey("90-laneshim.conf.laneshim-backup"));
            }

            ProcessResult second = Doctor(net.A, apply);
            Assert.AreEqual(0, second.ExitCode, second.Describe());
            Assert.AreEqual("unchanged", JsonDocument.Parse(second.Stdout).RootElement.GetProperty("applied").GetProperty("action").GetString(), second.Stdout);
            AssertSame(filesApplied, Files(dir), "files after the second --apply");
            AssertSame(valuesApplied, Values(net.A), "values after the second --apply");

            ProcessResult revert = Doctor(net.A, ["--revert", "--sysctl-dir", dir, "--json"]);
            Assert.AreEqual(0, revert.ExitCode, revert.Describe());
            Assert.AreEqual(previousFile ? "restored" : "removed",
                JsonDocument.Parse(revert.Stdout).RootElement.GetProperty("reverted").GetProperty("action").GetString(), revert.Stdout);
            AssertSame(filesBefore, Files(dir), "files after --revert");
            AssertSame(valuesBefore, Values(net.A), "values after --revert");

            ProcessResult again = Doctor(net.A, ["--revert", "--sysctl-dir", dir, "--json"]);
            Assert.AreEqual(0, again.ExitCode, again.Describe());
            Assert.AreEqual("none", JsonDocument.Parse(again.Stdout).RootElement.GetProperty("reverted").GetProperty("action").GetString(), again.Stdout);
            AssertSame(filesBefore, Files(dir), "files after the second --revert");
            AssertSame(valuesBefore, Values(net.A), "values after the second --revert");
            AssertSame(globalsBefore.ToDictionary(g => g.Key, g => g.Value.ToString(CultureInfo.InvariantCulture)),
                globals.ToDictionary(k => k, k => ReadGlobal(k).ToString(CultureInfo.InvariantCulture)), "global values");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Doctor_OutputNotATerminal_AlignedColumnsAndNoAnsi()
    {
        Privileges.RequireRoot("network namespaces and per-namespace sysctls");
        using var net = new NetnsPair();
        PrepareNamespace(net);
        SetAll(net.A, bad: true);

        ProcessResult r = Doctor(net.A, Lane);

        Assert.AreEqual(1, r.ExitCode, r.Describe());
        Assert.DoesNotContain("\u001b", r.Stdout, "no colour when stdout is not a terminal");
        string[] lines = r.Stdout.Split('\n');
        string header = lines.Single(l => l.StartsWith("SEVERITY ", StringComparison.Ordinal));
        int[] columns = new[] { "SCOPE", "CHECK", "MEASURED", "NEEDED" }.Select(c => header.IndexOf(c, StringComparison.Ordinal)).ToArray();
        string[] rows = lines.Where(l => l.StartsWith("ok ", StringComparison.Ordinal) || l.StartsWith("warn ", StringComparison.Ordinal)
            || l.StartsWith("limits-throughput ", StringComparison.Ordinal)).ToArray();
        Assert.IsGreaterThan(10, rows.Length, r.Stdout);
        foreach (string row in rows)
        {
            foreach (int c in columns)
            {
                Assert.IsTrue(row.Length > c && row[c - 1] == ' ' && row[c] != ' ', $"column at {c} not aligned in:\n{row}\n{header}");
            }
        }

        Assert.Contains("limits-throughput  lane ad-hoc", r.Stdout);
        Assert.Contains("    fix: sysctl -w net.ipv4.tcp_window_scaling=1", r.Stdout);
        Assert.Contains("lane ad-hoc: 1 Gbit/s x 40 ms = 5.00 MB in flight", r.Stdout);
        Assert.Contains("exit 1", r.Stdout);
    }

    [TestMethod]
    [DataRow(null, true, DisplayName = "terminal: colour")]
    [DataRow("1", false, DisplayName = "terminal with NO_COLOR: none")]
    public void Doctor_OnATerminal_ColoursUnlessNoColor(string? noColor, bool expectColour)
    {
        Privileges.RequireProgram("/usr/bin/script");
        // script(1) gives the doctor a pseudo-terminal as stdout.
        var env = new Dictionary<string, string?> { ["NO_COLOR"] = noColor, ["TERM"] = "xterm" };
        ProcessResult r = ProcessRunner.Run("/usr/bin/script", ["-qec", $"{RepoPaths.Cli} doctor --lane 1gbit --rtt 40ms", "/dev/null"], env);

        Assert.Contains("SEVERITY", r.Stdout, r.Describe());
        Assert.AreEqual(expectColour, System.Text.RegularExpressions.Regex.IsMatch(r.Stdout, "\u001b\\[[0-9;]*m"), r.Describe());
    }

    [TestMethod]
    [DataRow("--lane", "fast")]
    [DataRow("--rtt", "forever")]
    [DataRow("--rtt", "20s")]
    [DataRow("--no-such-flag")]
    [DataRow("--lane")]
    [DataRow("--dest")]
    [DataRow("--dest", "no-such-host.invalid")]
    [DataRow("stray")]
    [DataRow("--apply", "--revert")]
    [DataRow("--lane", "1gbit", "--policy", "/dev/null")]
    [DataRow("--revert", "--lane", "1gbit")]
    [DataRow("--apply", "--sysctl-dir", "/no/such/dir")]
    [DataRow("--cc", "Not A Name")]
    public void Doctor_UsageError_ExitsTwoWithMessage(params string[] args)
    {
        ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["doctor", .. args]);

        Assert.AreEqual(2, r.ExitCode, r.Describe());
        Assert.StartsWith("laneshim doctor: ", r.Stderr, r.Describe());
        Assert.AreEqual("", r.Stdout, r.Describe());
    }

    [TestMethod]
    public void Doctor_PolicyWithError_PrintsFileAndLineAndExitsTwo()
    {
        string dir = Directory.CreateTempSubdirectory("laneshim-doctor-").FullName;
        try
        {
            string policy = Path.Combine(dir, "lanes.conf");
            File.WriteAllText(policy, "class dmz rate=fast rtt=40ms\n");

            ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["doctor", "--policy", policy]);

            Assert.AreEqual(2, r.ExitCode, r.Describe());
            Assert.StartsWith($"{policy}:1:", r.Stderr, r.Describe());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Doctor_Policy_ChecksEveryLaneClassAtItsRtt()
    {
        string dir = Directory.CreateTempSubdirectory("laneshim-doctor-").FullName;
        try
        {
            string policy = Path.Combine(dir, "lanes.conf");
            File.WriteAllText(policy, "class wan rate=10gbit rtt=learn fallback=80ms cc=bbr\nclass dmz rate=1gbit rtt=40ms\nrule dst=any -> wan\n");

            ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["doctor", "--policy", policy, "--json"]);

            Assert.IsTrue(r.ExitCode is 0 or 1, r.Describe());
            JsonElement lanes = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("lanes");
            Assert.AreEqual(2, lanes.GetArrayLength());
            Assert.AreEqual("dmz", lanes[0].GetProperty("name").GetString());
            Assert.AreEqual(Bdp, lanes[0].GetProperty("bdpBytes").GetInt64());
            Assert.AreEqual("wan", lanes[1].GetProperty("name").GetString());
            Assert.AreEqual(100_000_000L, lanes[1].GetProperty("bdpBytes").GetInt64());
            Assert.AreEqual("fallback", lanes[1].GetProperty("rttSource").GetString());
            Assert.AreEqual("bbr", lanes[1].GetProperty("congestion").GetString());
            Assert.AreEqual(r.ExitCode == 1, JsonDocument.Parse(r.Stdout).RootElement.GetProperty("limitsThroughput").GetBoolean());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Help_Doctor_DocumentsExitCodes()
    {
        ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["doctor", "--help"]);

        Assert.AreEqual(0, r.ExitCode, r.Describe());
        Assert.Contains("Exit status: 0 nothing limits throughput, 1 something does, 2 usage error", r.Stdout);
        Assert.Contains("--sysctl-dir", r.Stdout);
    }

    private static ProcessResult Doctor(string ns, string[] args) =>
        ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(ns, [RepoPaths.Cli, "doctor", .. args]), timeout: TimeSpan.FromSeconds(60));

    // A default route through the veth, jumbo MTU with MTU probing off, and a short pfifo_fast queue: every egress check has work.
    private static string PrepareNamespace(NetnsPair net)
    {
        ProcessResult links = ProcessRunner.Check("/sbin/ip", "-n", net.A, "-j", "link", "show", "type", "veth");
        string dev = JsonDocument.Parse(links.Stdout).RootElement[0].GetProperty("ifname").GetString()!;
        ProcessRunner.Check("/sbin/ip", "-n", net.A, "route", "add", "default", "via", net.AddressB);
        ProcessRunner.Check("/sbin/ip", "-n", net.A, "link", "set", "dev", dev, "mtu", "9000");
        ProcessRunner.Check("/sbin/ip", "netns", "exec", net.A, "tc", "qdisc", "replace", "dev", dev, "root", "pfifo_fast");
        ProcessRunner.Check("/sbin/ip", "-n", net.A, "link", "set", "dev", dev, "txqueuelen", "100");
        return dev;
    }

    private static void SetAll(string ns, bool bad)
    {
        foreach ((string key, string badValue, string good) in PerNamespace)
        {
            if (File.Exists("/proc/sys/" + key.Replace('.', '/')))
            {
                ProcessRunner.Check("/sbin/ip", "netns", "exec", ns, "sysctl", "-q", "-w", $"{key}={(bad ? badValue : good)}");
            }
        }
    }

    private static string Namespaced(string ns, string key) =>
        string.Join(' ', ProcessRunner.Check("/sbin/ip", "netns", "exec", ns, "cat", "/proc/sys/" + key.Replace('.', '/')).Stdout
            .Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries));

    private static long ReadGlobal(string key) =>
        long.Parse(File.ReadAllText("/proc/sys/" + key.Replace('.', '/')).Trim(), CultureInfo.InvariantCulture);

    private static void WriteGlobal(string key, long value) =>
        File.WriteAllText("/proc/sys/" + key.Replace('.', '/'), value.ToString(CultureInfo.InvariantCulture));

    // Every sysctl the doctor reads or --apply may write, as the namespace sees it.
    private static Dictionary<string, string> Values(string ns)
    {
        string[] keys =
        [
            "net.core.rmem_max", "net.core.wmem_max", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.tcp_window_scaling",
            "net.ipv4.tcp_adv_win_scale", "net.ipv4.tcp_shrink_window", "net.ipv4.tcp_moderate_rcvbuf", "net.ipv4.tcp_allowed_congestion_control",
            "net.ipv4.tcp_congestion_control", "net.ipv4.tcp_mtu_probing", "net.mptcp.enabled",
        ];
        return keys.Where(k => File.Exists("/proc/sys/" + k.Replace('.', '/'))).ToDictionary(k => k, k => Namespaced(ns, k));
    }

    private static Dictionary<string, string> Files(string dir) =>
        Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), f => File.ReadAllText(f) + $"\n[mode {File.GetUnixFileMode(f)}]");

    private static void AssertSame(Dictionary<string, string> expected, Dictionary<string, string> actual, string what)
    {
        string Show(Dictionary<string, string> d) => string.Join("\n", d.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} => {p.Value}"));
        Assert.AreEqual(Show(expected), Show(actual), what);
    }

    private static JsonElement Finding(JsonElement root, string id)
    {
        JsonElement[] hits = root.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("id").GetString() == id).ToArray();
        Assert.HasCount(1, hits, $"finding {id}");
        return hits[0];
    }

    private static JsonElement Expect(JsonElement root, string id, string severity, string measured, string needed, string whyContains)
    {
        JsonElement f = Finding(root, id);
        string why = f.GetProperty("why").GetString()!;
        Assert.AreEqual(severity, f.GetProperty("severity").GetString(), $"{id}: {why}");
        Assert.AreEqual(measured, f.GetProperty("measured").GetString(), id);
        Assert.AreEqual(needed, f.GetProperty("needed").GetString(), id);
        Assert.Contains(whyContains, why, id);
        if (severity != "ok" && f.GetProperty("sysctl").ValueKind == JsonValueKind.Object)
        {
            Assert.AreEqual($"sysctl -w {id}=" + (needed.Contains(' ') ? $"\"{needed}\"" : needed), f.GetProperty("fix").GetString(), id);
        }

        return f;
    }
}
