// AbiMismatchTests.cs - a real old shim (the last commit with another LANESHIM_ABI_VERSION) with today's agent: init refuses, every connect fails open.
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Native.Tests;

/// <summary>
/// An upgrade replaces the agent while programs that started before it still run the old shim; such a program loads the
/// agent only at its first eligible socket, so it can meet the new agent. The agent must refuse the old ABI
/// (LANESHIM_E_ABI) and the program connect as it would without LaneShim.
/// </summary>
[TestClass]
public sealed partial class AbiMismatchTests
{
    private const int Connects = 50;
    private const int DeadlineMs = 20;

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void OldShimWithNewAgent_AgentRefusesTheAbi_EveryConnectFailsOpenWithoutALane()
    {
        string dir = Directory.CreateTempSubdirectory("laneshim-abi-").FullName;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(4096);
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        BackgroundProcess? broker = null;
        try
        {
            (string oldShim, int oldVersion) = BuildOldShim(dir);
            int current = AbiVersion(File.ReadAllText(RepoPaths.File("native", "include", "laneshim_abi.h")));
            Assert.AreNotEqual(current, oldVersion, "the old shim must speak another ABI");

            string socket = Path.Combine(dir, "broker.sock");
            broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{socket}", "--rate", "1gbit", "--rtt", "10ms", "--state", "memory"],
                new Dictionary<string, string?> { ["LANESHIM_DISABLE"] = "1" });
            broker.WaitForOutput("listening", TimeSpan.FromSeconds(60));

            // Control: today's shim with today's agent gets lanes from this broker.
            (ProcessResult today, string todayLog) = Connect(dir, RepoPaths.Shim, socket, port, "today");
            Assert.AreEqual(0, today.ExitCode, today.Describe());
            Assert.AreNotEqual(0, Leases(socket), $"today's shim and agent must get a lane here\n{todayLog}");

            // The old shim, loading today's agent: refused at init, so no lane, and every connect still works.
            int leasesBefore = Leases(socket);
            (ProcessResult old, string oldLog) = Connect(dir, oldShim, socket, port, "old");
            Assert.AreEqual(0, old.ExitCode, old.Describe());
            JsonElement result = JsonDocument.Parse(old.Stdout).RootElement;
            Assert.AreEqual(0, result.GetProperty("failures").GetInt32(), old.Stdout);
            long[] us = result.GetProperty("us").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.HasCount(Connects, us);
            StringAssert.Contains(oldLog, "ABI version mismatch", oldLog);
            Assert.AreEqual(leasesBefore, Leases(socket), $"the old shim must get no lane through a refused agent\n{oldLog}");
            long worstAfterFirst = us.Skip(1).Max();
            Console.WriteLine($"old shim v{oldVersion}, agent v{current}: first connect {us[0]} us (loads the agent), then worst {worstAfterFirst} us");
            Assert.IsLessThanOrEqualTo((DeadlineMs + 5) * 1000L, worstAfterFirst, "after the refusal the shim no longer calls the agent");
        }
        finally
        {
            broker?.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (ProcessResult Result, string Log) Connect(string dir, string shim, string socket, int port, string name)
    {
        string log = Path.Combine(dir, $"{name}.log");
        var env = new Dictionary<string, string?>
        {
            ["LD_PRELOAD"] = shim,
            ["LANESHIM_AGENT"] = RepoPaths.Agent,
            ["LANESHIM_BROKER"] = $"unix:{socket}",
            ["LANESHIM_INCLUDE_LOOPBACK"] = "1",
            ["LANESHIM_DEADLINE_MS"] = "2000", // the control's first connect starts the runtime: let it get its lane
            ["LANESHIM_LOG"] = "info",
            ["LANESHIM_LOG_FILE"] = log,
        };
        if (name == "old")
        {
            env["LANESHIM_DEADLINE_MS"] = DeadlineMs.ToString();
        }
        ProcessResult r = ProcessRunner.Run(RepoPaths.SystemPython, [RepoPaths.File("tests", "e2e", "connect_timer.py"), "127.0.0.1", port.ToString(), Connects.ToString()], env, TimeSpan.FromSeconds(120));
        return (r, File.Exists(log) ? File.ReadAllText(log) : "(no log)");
    }

    private static int Leases(string socket)
    {
        ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["status", "--broker", $"unix:{socket}", "--json"], timeout: TimeSpan.FromSeconds(60));
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        JsonElement leases = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("leases");
        return leases.TryGetProperty("leases", out JsonElement list) ? list.GetArrayLength() : 0;
    }

    // The shim as it was just before the newest ABI bump, built from git history with its own Makefile.
    private static (string Shim, int Version) BuildOldShim(string dir)
    {
        ProcessResult log = ProcessRunner.Run("/usr/bin/git", ["-C", RepoPaths.Root, "log", "--format=%H", "-G", "define LANESHIM_ABI_VERSION", "--", "native/include/laneshim_abi.h"]);
        string[] bumps = log.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (log.ExitCode != 0 || bumps.Length < 2)
        {
            Assert.Inconclusive($"needs the repository's git history (a shallow clone has no older shim): {log.Describe()}");
        }
        string tree = Path.Combine(dir, "old");
        Directory.CreateDirectory(tree);
        ProcessRunner.Check("/bin/bash", "-c", $"git -C '{RepoPaths.Root}' archive '{bumps[0]}^' native | tar -x -C '{tree}'");
        ProcessRunner.Check("/usr/bin/make", "-s", "-C", Path.Combine(tree, "native"), "build/liblaneshim.so");
        return (Path.Combine(tree, "native", "build", "liblaneshim.so"), AbiVersion(File.ReadAllText(Path.Combine(tree, "native", "include", "laneshim_abi.h"))));
    }

    private static int AbiVersion(string header) => int.Parse(AbiDefine().Match(header).Groups[1].Value);

    [GeneratedRegex(@"#define LANESHIM_ABI_VERSION (\d+)")]
    private static partial Regex AbiDefine();
}
