// RealAgentForkTests.cs - fork after the real NativeAOT agent has talked to a real broker: children start a private copy of the agent, get lanes and never hang; exec'd children get the agent again.
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Native.Tests;

[TestClass]
public sealed partial class RealAgentForkTests
{
    private const int Children = 8;

    /// <summary>
    /// The parent connects (loading the .NET runtime and asking the broker), keeps two threads
    /// connecting, and forks; each child connects 5 times (fork) or execs a Python that connects
    /// (exec). A child that takes over 10 s is a deadlock; one whose 5 connects take over 2 s fails.
    /// Each forked child starts a private copy of the agent (the parent's runtime has no threads in it).
    /// </summary>
    private const string Script = """
        import os, socket, sys, threading, time
        port, mode = int(sys.argv[1]), sys.argv[2]
        def conn():
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        conn()
        stop = False
        def busy():
            while not stop:
                conn()
        threads = [threading.Thread(target=busy) for _ in range(2)]
        for t in threads:
            t.start()
        kids = []
        for i in range(int(sys.argv[3])):
            pid = os.fork()
            if pid == 0:
                if mode == "exec":
                    os.execv(sys.executable, [sys.executable, "-c",
                        "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5).close()", str(port)])
                t0 = time.monotonic()
                try:
                    for _ in range(5):
                        conn()
                except Exception:
                    os._exit(4)
                os._exit(0 if time.monotonic() - t0 < 2 else 3)
            deadline = time.monotonic() + 10
            while True:
                r, status = os.waitpid(pid, os.WNOHANG)
                if r:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    print("hung", pid)
                    sys.exit(5)
                time.sleep(0.005)
            if status != 0:
                print("child", pid, "status", status)
                sys.exit(6)
            kids.append(pid)
        stop = True
        for t in threads:
            t.join()
        print("parent", os.getpid(), "children", " ".join(map(str, kids)))
        """;

    [TestMethod]
    [DataRow("fork")]
    [DataRow("exec")]
    public void ForkAfterRealAgent_ChildrenGetLanesWithoutHanging(string mode)
    {
        Assert.IsTrue(File.Exists(RepoPaths.Agent), $"{RepoPaths.Agent} missing: run ./build.sh");
        string dir = Directory.CreateTempSubdirectory("laneshim-fork-").FullName;
        string socket = Path.Combine(dir, "broker.sock"), log = Path.Combine(dir, "shim.log");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(4096);
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        Task drain = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using Socket s = await listener.AcceptSocketAsync(stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        try
        {
            using var broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{socket}", "--rate", "1gbit", "--rtt", "40ms"]);
            broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
            var env = new Dictionary<string, string?>
            {
                ["LD_PRELOAD"] = RepoPaths.Shim,
                ["LANESHIM_AGENT"] = RepoPaths.Agent,
                ["LANESHIM_BROKER"] = $"unix:{socket}",
                ["LANESHIM_INCLUDE_LOOPBACK"] = "1",
                // Loading the .NET runtime counts against the deadline; this test is about fork, not speed.
                ["LANESHIM_DEADLINE_MS"] = "3000",
                ["LANESHIM_LOG"] = "debug",
                ["LANESHIM_LOG_FILE"] = log,
            };
            ProcessResult r = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", Script, port.ToString(), mode, Children.ToString()], env, TimeSpan.FromSeconds(180));
            string shimLog = File.Exists(log) ? File.ReadAllText(log) : "";
            string details = $"{r.Describe()}\n--- shim log (tail)\n{string.Join('\n', shimLog.Split('\n').TakeLast(30))}";
            Assert.AreEqual(0, r.ExitCode, details);
            Match m = ParentAndChildren().Match(r.Stdout);
            Assert.IsTrue(m.Success, details);
            int parent = int.Parse(m.Groups[1].Value);
            int[] children = m.Groups[2].Value.Split(' ').Select(int.Parse).ToArray();
            Assert.HasCount(Children, children, details);
            Assert.Contains($"laneshim[{parent}]: connect ", shimLog, $"the parent's connects did not reach the agent\n{details}");
            Assert.Contains("agent rc=0 ", shimLog, $"the broker granted no lane\n{details}");
            foreach (int child in children)
            {
                if (mode == "fork")
                {
                    Assert.Contains($"laneshim[{child}]: agent: {RepoPaths.Agent} ready (private copy after fork)", shimLog, $"forked child {child} did not start its own agent\n{details}");
                    Assert.MatchesRegex(new Regex($@"laneshim\[{child}\]: connect fd=\d+ \S+: agent rc=0 "), shimLog, $"forked child {child} got no lane\n{details}");
                }
                else
                {
                    Assert.Contains($"laneshim[{child}]: agent: ", shimLog, $"exec'd child {child} did not load the agent\n{details}");
                    Assert.Contains($"laneshim[{child}]: connect ", shimLog, $"exec'd child {child} did not ask the agent\n{details}");
                }
            }
        }
        finally
        {
            stop.Cancel();
            drain.Wait(TimeSpan.FromSeconds(5));
            Directory.Delete(dir, recursive: true);
        }
    }

    [GeneratedRegex(@"parent (\d+) children ([\d ]+)")]
    private static partial Regex ParentAndChildren();
}
