// CliVerbTests.cs - the laneshim CLI as a user meets it: help, errors, exit codes and signals passing through.
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Cli.Tests.Commands;

[TestClass]
public sealed class CliVerbTests
{
    private static ProcessResult Laneshim(params string[] args) => ProcessRunner.Run(RepoPaths.Cli, args, timeout: TimeSpan.FromSeconds(60));

    [TestMethod]
    [DataRow("run")]
    [DataRow("broker")]
    public void Help_OnEveryVerb_PrintsUsageAndExitsZero(string verb)
    {
        ProcessResult r = Laneshim(verb, "--help");
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        Assert.Contains("Usage:", r.Stdout, r.Describe());
        Assert.Contains($"laneshim {verb}", r.Stdout, r.Describe());
    }

    [TestMethod]
    public void UnknownOption_ExitsNonZeroWithMessageOnStderr()
    {
        ProcessResult r = Laneshim("broker", "--no-such-flag");
        Assert.AreNotEqual(0, r.ExitCode, r.Describe());
        Assert.Contains("--no-such-flag", r.Stderr, r.Describe());
    }

    [TestMethod]
    public void Broker_PolicyWithError_PrintsFileAndLineAndExitsNonZero()
    {
        string dir = Directory.CreateTempSubdirectory("laneshim-policy-").FullName;
        string policy = Path.Combine(dir, "lanes.conf");
        File.WriteAllText(policy, "# lanes\nclass dmz rate=1gbit rtt=40ms\nrule dst=10.0.0.0/8 -> nosuchclass\n");
        try
        {
            ProcessResult r = Laneshim("broker", "--listen", $"unix:{Path.Combine(dir, "b.sock")}", "--policy", policy);
            Assert.AreEqual(2, r.ExitCode, r.Describe());
            Assert.Contains($"{policy}:3:", r.Stderr, r.Describe());
            Assert.Contains("nosuchclass", r.Stderr, r.Describe());
            Assert.IsFalse(File.Exists(Path.Combine(dir, "b.sock")), "a broker with a bad policy must not listen");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Broker_BadRate_ExitsNonZero()
    {
        ProcessResult r = Laneshim("broker", "--listen", "unix:/tmp/laneshim-never.sock", "--rate", "fast");
        Assert.AreEqual(2, r.ExitCode, r.Describe());
        Assert.Contains("--rate", r.Stderr, r.Describe());
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(3)]
    [DataRow(130)]
    public void Run_CommandExitCode_PassesThrough(int code)
    {
        ProcessResult r = Laneshim("run", "--embedded", "--", "/bin/sh", "-c", $"exit {code}");
        Assert.AreEqual(code, r.ExitCode, r.Describe());
    }

    [TestMethod]
    public void Run_CommandKilledBySignal_LaneshimEndsWithTheSameSignal()
    {
        // bash reports a child killed by SIGTERM as 128+15.
        ProcessResult r = ProcessRunner.Run("/bin/bash", ["-c", $"{RepoPaths.Cli} run --embedded -- /bin/sh -c 'kill -TERM $$'; echo status=$?"]);
        Assert.Contains("status=143", r.Stdout, r.Describe());
    }

    [TestMethod]
    public void Run_SigtermToLaneshim_ReachesTheCommand()
    {
        using var run = new BackgroundProcess(RepoPaths.Cli, ["run", "--embedded", "--", "/bin/sh", "-c", "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done"]);
        run.WaitForOutput("ready", TimeSpan.FromSeconds(30));
        ProcessRunner.Check("/bin/kill", "-TERM", run.Pid.ToString());
        Assert.AreEqual(7, run.WaitForExit(TimeSpan.FromSeconds(10)), run.Stdout + run.Stderr);
        Assert.Contains("got-term", run.Stdout);
    }

    [TestMethod]
    public void Run_MissingCommand_Exits127()
    {
        ProcessResult r = Laneshim("run", "--embedded", "--", "/no/such/program");
        Assert.AreEqual(127, r.ExitCode, r.Describe());
        Assert.Contains("not found", r.Stderr, r.Describe());
    }

    [TestMethod]
    public void Run_KeepsExistingPreloadAndAddsShimFirst()
    {
        ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["run", "--embedded", "--", "/bin/sh", "-c", "echo \"$LD_PRELOAD|$LANESHIM_BROKER\""],
            new Dictionary<string, string?> { ["LD_PRELOAD"] = "libc.so.6" });
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        string[] parts = r.Stdout.Trim().Split('|');
        Assert.AreEqual($"{RepoPaths.Shim} libc.so.6", parts[0], r.Describe());
        Assert.StartsWith("unix:", parts[1], r.Describe());
    }

    [TestMethod]
    public void Run_SigpipeIsDefaultInTheCommand()
    {
        // The .NET runtime ignores SIGPIPE; the wrapped command must not inherit that.
        ProcessResult r = Laneshim("run", "--embedded", "--", "/bin/sh", "-c", "grep SigIgn /proc/self/status");
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        ulong ignored = Convert.ToUInt64(r.Stdout.Split(':')[1].Trim(), 16);
        Assert.AreEqual(0UL, ignored & (1UL << 12), $"SIGPIPE (13) ignored in the command: {r.Stdout}");
    }
}
