// SiteBatteryTests.cs - the shim in /etc/ld.so.preload (of a private mount namespace) changes nothing 45 real programs show, with the broker up, down or hanging.
using System.Diagnostics;
using System.Text;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Site;

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
        using var battery = Battery.Run(RepoPaths.Shim);
        string dir = battery.Dir;
        Console.WriteLine($"battery: {battery.Elapsed.TotalSeconds:0} s for {battery.Programs.Length} programs x 4 modes");
        Assert.IsGreaterThanOrEqualTo(30, battery.Programs.Length, string.Join(", ", battery.Programs));

        // The servers really answered, so "the same" means "worked the same", not "failed the same".
        foreach (string ok in new[] { "curl", "curl-ipv6", "wget", "python3-http", "git-clone-http", "rsync-daemon", "iperf3", "static", "dotnet", "apt-cache", "setuid-passwd" })
        {
            Assert.AreEqual("0", battery.Exit("plain", ok), $"{ok} failed without the shim: {battery.Output("plain", ok)}");
        }
        Assert.AreEqual(Hello, battery.Stdout("plain", "curl"));
        Assert.AreEqual("111\n", battery.Stdout("plain", "python3-refused"), "connect_ex to a closed port: ECONNREFUSED");

        var differences = new StringBuilder();
        foreach (string mode in Modes)
        {
            foreach (string name in battery.Differing(mode))
            {
                differences.AppendLine($"[{mode}] {name}: plain exit {battery.Exit("plain", name)}, {mode} exit {battery.Exit(mode, name)}\n--- plain\n{battery.Output("plain", name)}\n--- {mode}\n{battery.Output(mode, name)}");
            }
        }
        Assert.AreEqual(0, differences.Length, differences.ToString());

        Assert.AreEqual("0", File.ReadAllText(Path.Combine(dir, "maps-plain")).Trim(), "the plain run must not have the shim");
        foreach (string mode in Modes)
        {
            Assert.IsGreaterThanOrEqualTo(1, int.Parse(File.ReadAllText(Path.Combine(dir, $"maps-{mode}")).Trim()), $"{mode}: the shim was not mapped in a new process");
        }

        // Broker up: every eligible connect the shim saw got its lane (the shim's own log), from each kind of mover (the broker's).
        string[] upDecisions = File.ReadAllLines(Path.Combine(dir, "shim-up.log")).Where(l => l.Contains(": agent rc=", StringComparison.Ordinal)).ToArray();
        Assert.IsGreaterThanOrEqualTo(10, upDecisions.Length, string.Join('\n', upDecisions));
        Assert.IsEmpty(upDecisions.Where(l => !l.Contains(": agent rc=0 ", StringComparison.Ordinal)).ToArray(), string.Join('\n', upDecisions));
        foreach (string program in new[] { "/usr/bin/curl", "/usr/bin/wget", "/usr/bin/iperf3", "/usr/bin/rsync", "/usr/bin/ssh", "python3", "git-remote-http" })
        {
            Assert.IsTrue(battery.BrokerLog.Split('\n').Any(l => l.Contains("grant by", StringComparison.Ordinal) && l.Contains(program, StringComparison.Ordinal)),
                $"no lane granted to {program}\n{battery.BrokerLog}");
        }
    }

    [TestMethod]
    [Timeout(900_000, CooperativeCancellation = true)]
    public void SiteWidePreload_ShimThatPrints_BatteryCatchesEveryProgram()
    {
        // The control: the same battery must see a shim that writes one line to stdout from its constructor.
        string build = Directory.CreateTempSubdirectory("laneshim-printing-").FullName;
        try
        {
            string source = Path.Combine(build, "printing.c");
            File.WriteAllText(source, "#include <stdio.h>\n__attribute__((constructor)) static void say(void) { printf(\"a shim that prints\\n\"); }\n");
            string shim = Path.Combine(build, "liblaneshim.so");
            ProcessRunner.Check("/usr/bin/gcc", "-shared", "-fPIC", "-o", shim, source);
            using var battery = Battery.Run(shim);
            foreach (string mode in Modes)
            {
                string[] differing = battery.Differing(mode);
                Console.WriteLine($"{mode}: {differing.Length} of {battery.Programs.Length} programs differ; not caught: {string.Join(", ", battery.Programs.Except(differing))}");
                // Every command line runs under `timeout bash -c`, which loads the shim too, so every one must be caught
                // (the static program only through its wrappers).
                Assert.HasCount(battery.Programs.Length, differing, $"{mode}: not caught: {string.Join(", ", battery.Programs.Except(differing))}");
            }
        }
        finally
        {
            Directory.Delete(build, recursive: true);
        }
    }

    /// <summary>One run of tests/site/battery.sh with its servers, broker and fixtures; disposing removes them all.</summary>
    private sealed class Battery : IDisposable
    {
        private Dictionary<(string Mode, string Name), string> _exits = [];

        private Battery(string dir) => Dir = dir;

        public string Dir { get; }

        public TimeSpan Elapsed { get; private set; }

        public string[] Programs { get; private set; } = [];

        public string BrokerLog { get; private set; } = "";

        public static Battery Run(string shim)
        {
            Privileges.RequireRoot("network and mount namespaces, /etc overlay");
            foreach (string program in new[] { "/usr/bin/curl", "/usr/bin/wget", "/usr/bin/git", "/usr/bin/rsync", "/usr/bin/iperf3", "/usr/bin/ssh", "/usr/bin/perl", "/usr/bin/gcc" })
            {
                Privileges.RequireProgram(program);
            }
            var battery = new Battery(Directory.CreateTempSubdirectory("laneshim-battery-").FullName);
            try
            {
                battery.Execute(shim);
                return battery;
            }
            catch
            {
                battery.Dispose();
                throw;
            }
        }

        public string Exit(string mode, string name) => _exits.GetValueOrDefault((mode, name), "(not run)");

        public string Stdout(string mode, string name) => File.ReadAllText(Path.Combine(Dir, "work", mode, "out", name + ".out"));

        /// <summary>Programs whose exit code or stdout (byte for byte) in <paramref name="mode"/> differ from the plain run.</summary>
        public string[] Differing(string mode) => Programs.Where(name =>
            Exit(mode, name) != Exit("plain", name) || !File.Exists(Path.Combine(Dir, "work", mode, "out", name + ".out"))
            || !File.ReadAllBytes(Path.Combine(Dir, "work", mode, "out", name + ".out")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Dir, "work", "plain", "out", name + ".out")))).ToArray();

        public string Output(string mode, string name)
        {
            string basePath = Path.Combine(Dir, "work", mode, "out", name);
            static string Read(string p) => File.Exists(p) ? File.ReadAllText(p) : "(missing)";
            return $"stdout: {Read(basePath + ".out")}\nstderr: {Read(basePath + ".err")}";
        }

        public void Dispose()
        {
            // LANESHIM_TEST_KEEP=1 keeps the outputs and shim logs for a look after a failure.
            if (Environment.GetEnvironmentVariable("LANESHIM_TEST_KEEP") != "1")
            {
                Directory.Delete(Dir, recursive: true);
            }
        }

        private void Execute(string shim)
        {
            PrepareFixtures(Dir);
            using var net = new NetnsPair();
            using var http = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, RepoPaths.SystemPython, "-m", "http.server", "--bind", "::", "--directory", Path.Combine(Dir, "www"), HttpPort.ToString()));
            using var rsync = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, "/usr/bin/rsync", "--daemon", "--no-detach", $"--config={Path.Combine(Dir, "rsyncd.conf")}", $"--port={RsyncPort}", $"--address={net.AddressB}"));
            using var iperf = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, "/usr/bin/iperf3", "-s", "-p", IperfPort.ToString(), "-B", net.AddressB));
            using var broker = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.A, RepoPaths.Cli, "broker", "--listen", $"unix:{Path.Combine(Dir, "broker.sock")}", "--policy", Path.Combine(Dir, "lanes.conf"), "--verbose"));
            using var hang = new BackgroundProcess(RepoPaths.SystemPython, [RepoPaths.File("tests", "e2e", "bad_broker.py"), "hang", Path.Combine(Dir, "hang.sock")]);
            foreach ((BackgroundProcess p, int port) in new[] { (http, HttpPort), (rsync, RsyncPort), (iperf, IperfPort) })
            {
                p.WaitUntil(() => Listening(net.B, port), TimeSpan.FromSeconds(30), $"listening on {port}");
            }
            broker.WaitForOutput("listening", TimeSpan.FromSeconds(30));
            hang.WaitForOutput("listening", TimeSpan.FromSeconds(10));

            var sw = Stopwatch.StartNew();
            ProcessResult run = ProcessRunner.Run("/sbin/ip",
                NetnsPair.Exec(net.A, "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/bash", RepoPaths.File("tests", "site", "battery.sh"),
                    Dir, shim, net.AddressB, net.Address6B, HttpPort.ToString(), RsyncPort.ToString(), IperfPort.ToString(), ClosedPort.ToString()),
                timeout: TimeSpan.FromMinutes(12));
            Elapsed = sw.Elapsed;
            Assert.AreEqual(0, run.ExitCode, run.Describe());
            _exits = File.ReadAllLines(Path.Combine(Dir, "results.tsv")).Select(l => l.Split('\t')).ToDictionary(f => (f[0], f[1]), f => f[2]);
            Programs = _exits.Keys.Where(k => k.Mode == "plain").Select(k => k.Name).ToArray();
            BrokerLog = broker.Stdout + broker.Stderr;
        }

        private static bool Listening(string ns, int port) =>
            ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(ns, "ss", "-Hltn", $"( sport = :{port} )")).Stdout.Trim().Length > 0;

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
}
