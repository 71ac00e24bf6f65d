// SiteBatteryTests.cs - the shim in /etc/ld.so.preload (of a private mount namespace) changes nothing 45 real programs show, with the broker up, down or hanging.
using System.Diagnostics;
using System.Text;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Cli.Tests;

[TestClass]
public sealed class SiteBatteryTests
{
    private const int HttpPort = 8080;
    private const int RsyncPort = 8873;
    private const int IperfPort = 5201;
    private const int ClosedPort = 9;
    private const string Hello = "hello from the site battery\n";
    private static readonly string[] Modes = ["up", "down", "hang"];

    [TestMethod]
    [Timeout(900_000, CooperativeCancellation = true)]
    public void SiteWidePreload_RealPrograms_SameExitCodeAndStdoutWithBrokerUpDownAndHanging()
    {
        Privileges.RequireRoot("network and mount namespaces, /etc overlay");
        foreach (string program in new[] { "/usr/bin/curl", "/usr/bin/wget", "/usr/bin/git", "/usr/bin/rsync", "/usr/bin/iperf3", "/usr/bin/ssh", "/usr/bin/perl", "/usr/bin/gcc" })
        {
            Privileges.RequireProgram(program);
        }
        string dir = Directory.CreateTempSubdirectory("laneshim-battery-").FullName;
        try
        {
            PrepareFixtures(dir);
            using var net = new NetnsPair();
            using var http = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, RepoPaths.SystemPython, "-m", "http.server", "--bind", "::", "--directory", Path.Combine(dir, "www"), HttpPort.ToString()));
            using var rsync = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, "/usr/bin/rsync", "--daemon", "--no-detach", $"--config={Path.Combine(dir, "rsyncd.conf")}", $"--port={RsyncPort}", $"--address={net.AddressB}"));
            using var iperf = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, "/usr/bin/iperf3", "-s", "-p", IperfPort.ToString(), "-B", net.AddressB));
            using var broker = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.A, RepoPaths.Cli, "broker", "--listen", $"unix:{Path.Combine(dir, "broker.sock")}", "--policy", Path.Combine(dir, "lanes.conf")));
            using var hang = new BackgroundProcess(RepoPaths.SystemPython, [RepoPaths.File("tests", "e2e", "bad_broker.py"), "hang", Path.Combine(dir, "hang.sock")]);
            foreach ((BackgroundProcess p, int port) in new[] { (http, HttpPort), (rsync, RsyncPort), (iperf, IperfPort) })
            {
                p.WaitUntil(() => Listening(net.B, port), TimeSpan.FromSeconds(30), $"listening on {port}");
            }
            broker.WaitForOutput("listening", TimeSpan.FromSeconds(30));
            hang.WaitForOutput("listening", TimeSpan.FromSeconds(10));

            var sw = Stopwatch.StartNew();
            ProcessResult run = ProcessRunner.Run("/sbin/ip",
                NetnsPair.Exec(net.A, "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/bash", RepoPaths.File("tests", "site", "battery.sh"),
                    dir, RepoPaths.Shim, net.AddressB, net.Address6B, HttpPort.ToString(), RsyncPort.ToString(), IperfPort.ToString(), ClosedPort.ToString()),
                timeout: TimeSpan.FromMinutes(12));
            sw.Stop();
            Assert.AreEqual(0, run.ExitCode, run.Describe());
            Console.WriteLine($"battery: {sw.Elapsed.TotalSeconds:0} s for 4 modes");

            var results = File.ReadAllLines(Path.Combine(dir, "results.tsv")).Select(l => l.Split('\t'))
                .ToDictionary(f => (Mode: f[0], Name: f[1]), f => (Exit: f[2], Stdout: f[3]));
            string[] programs = results.Keys.Where(k => k.Mode == "plain").Select(k => k.Name).ToArray();
            Assert.IsGreaterThanOrEqualTo(30, programs.Length, string.Join(", ", programs));

            // The servers really answered, so "the same" means "worked the same", not "failed the same".
            foreach (string ok in new[] { "curl", "curl-ipv6", "wget", "python3-http", "git-clone-http", "rsync-daemon", "iperf3", "static", "dotnet", "apt-cache", "setuid-passwd" })
            {
                Assert.AreEqual("0", results[("plain", ok)].Exit, $"{ok} failed without the shim: {Output(dir, "plain", ok)}");
            }
            Assert.AreEqual(Hello, File.ReadAllText(Path.Combine(dir, "work", "plain", "out", "curl.out")));
            Assert.AreEqual("111\n", File.ReadAllText(Path.Combine(dir, "work", "plain", "out", "python3-refused.out")), "connect_ex to a closed port: ECONNREFUSED");

            var differences = new StringBuilder();
            foreach (string mode in Modes)
            {
                foreach (string name in programs)
                {
                    if (!results.TryGetValue((mode, name), out var got) || got != results[("plain", name)])
                    {
                        differences.AppendLine($"[{mode}] {name}: plain exit {results[("plain", name)].Exit}, {mode} exit {got.Exit}\n--- plain\n{Output(dir, "plain", name)}\n--- {mode}\n{Output(dir, mode, name)}");
                    }
                }
            }
            Assert.AreEqual(0, differences.Length, differences.ToString());

            var maps = File.ReadAllLines(Path.Combine(dir, "checks.tsv")).Select(l => l.Split('\t')).ToDictionary(f => f[1], f => int.Parse(f[2]));
            Assert.AreEqual(0, maps["plain"], "the plain run must not have the shim");
            foreach (string mode in Modes)
            {
                Assert.IsGreaterThanOrEqualTo(1, maps[mode], $"{mode}: the shim was not mapped in a new process");
            }

            // Broker up: every eligible connect the shim saw got its lane (the shim's own log), from each kind of mover (the broker's).
            string[] upDecisions = File.ReadAllLines(Path.Combine(dir, "shim-up.log")).Where(l => l.Contains(": agent rc=", StringComparison.Ordinal)).ToArray();
            Assert.IsGreaterThanOrEqualTo(10, upDecisions.Length, string.Join('\n', upDecisions));
            Assert.IsEmpty(upDecisions.Where(l => !l.Contains(": agent rc=0 ", StringComparison.Ordinal)).ToArray(), string.Join('\n', upDecisions));
            string log = broker.Stdout + broker.Stderr;
            foreach (string program in new[] { "/usr/bin/curl", "/usr/bin/wget", "/usr/bin/iperf3", "/usr/bin/rsync", "/usr/bin/ssh", "python3", "git-remote-http" })
            {
                Assert.IsTrue(log.Split('\n').Any(l => l.Contains("grant by", StringComparison.Ordinal) && l.Contains(program, StringComparison.Ordinal)),
                    $"no lane granted to {program}\n{log}");
            }
        }
        finally
        {
            // LANESHIM_TEST_KEEP=1 keeps the outputs and shim logs for a look after a failure.
            if (Environment.GetEnvironmentVariable("LANESHIM_TEST_KEEP") != "1")
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static bool Listening(string ns, int port) =>
        ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(ns, "ss", "-Hltn", $"( sport = :{port} )")).Stdout.Trim().Length > 0;

    private static string Output(string dir, string mode, string name)
    {
        string basePath = Path.Combine(dir, "work", mode, "out", name);
        string Read(string p) => File.Exists(p) ? File.ReadAllText(p) : "(missing)";
        return $"stdout: {Read(basePath + ".out")}\nstderr: {Read(basePath + ".err")}";
    }

    /// <summary>Fixture files, a static program, a git repository served over dumb HTTP, the rsync module and the broker policy.</summary>
    private static void PrepareFixtures(string dir)
    {
        string data = Directory.CreateDirectory(Path.Combine(dir, "data")).FullName;
        File.WriteAllText(Path.Combine(data, "a.txt"), Hello);
        File.WriteAllText(Path.Combine(data, "words"), "delta\nalpha\ncharlie\nbravo\n");
        Directory.CreateDirectory(Path.Combine(data, "tree", "sub"));
        File.WriteAllText(Path.Combine(data, "tree", "x"), "x");
        File.WriteAllText(Path.Combine(data, "tree", "sub", "y"), "y");
        File.WriteAllText(Path.Combine(data, "Makefile"), "all:\n\t@echo made $(words a b c)\n");
        File.WriteAllText(Path.Combine(dir, "hello.c"), "#include <stdio.h>\nint main(void) { puts(\"static hello\"); return 0; }\n");
        ProcessRunner.Check("/usr/bin/gcc", "-static", "-O2", "-o", Path.Combine(data, "static_hello"), Path.Combine(dir, "hello.c"));

        string www = Directory.CreateDirectory(Path.Combine(dir, "www")).FullName;
        File.WriteAllText(Path.Combine(www, "a.txt"), Hello);
        string src = Path.Combine(dir, "src");
        ProcessRunner.Check("/usr/bin/git", "init", "-q", src);
        ProcessRunner.Check("/usr/bin/git", "-C", src, "-c", "user.name=battery", "-c", "user.email=battery@example.org", "commit", "-q", "--allow-empty", "-m", "battery commit");
        ProcessRunner.Check("/usr/bin/git", "clone", "-q", "--bare", src, Path.Combine(www, "repo.git"));
        ProcessRunner.Check("/usr/bin/git", "-C", Path.Combine(www, "repo.git"), "update-server-info");

        File.WriteAllText(Path.Combine(dir, "rsyncd.conf"), $"uid = root\ngid = root\nuse chroot = no\n[data]\npath = {data}\nread only = yes\n");
        File.WriteAllText(Path.Combine(dir, "lanes.conf"), "class bulk rate=1gbit rtt=10ms\nrule -> bulk\n");
    }
}
