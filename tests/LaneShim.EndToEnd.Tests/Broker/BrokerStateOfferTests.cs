// BrokerStateOfferTests.cs - a real program under the shim opens two connections on a class with capacity=: the second
// is refused at the class rate, and the agent accepts the broker's counter-offer within the same deadline.
using System.Globalization;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Broker;

[TestClass]
public sealed class BrokerStateOfferTests
{
    private const string Client = """
        import socket, sys
        socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(2)]
        for s in socks:
            print(s.getsockopt(socket.SOL_SOCKET, 47))  # SO_MAX_PACING_RATE, bytes/s
        """;

    private const string Server = """
        import socket, sys, time
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(16)
        held = []
        while True:
            held.append(l.accept()[0])
        """;

    [TestMethod]
    public void SecondConnection_OverCapacity_GetsTheOfferedRate()
    {
        Privileges.RequireProgram(RepoPaths.SystemPython);
        string dir = Directory.CreateTempSubdirectory("laneshim-offer-").FullName;
        int port = 20000 + Environment.ProcessId % 20000;
        try
        {
            string policy = Path.Combine(dir, "lanes.conf");
            File.WriteAllText(policy, $"class capped rate=600mbit rtt=1ms capacity=1gbit min_rate=10mbit\nrule direction=out port={port} -> capped\n");
            string socket = Path.Combine(dir, "broker.sock");
            using var broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{socket}", "--policy", policy, "--verbose"]);
            broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
            using var server = new BackgroundProcess(RepoPaths.SystemPython, ["-c", Server, port.ToString(CultureInfo.InvariantCulture)]);
            server.WaitUntil(() => ProcessRunner.Run("/usr/bin/ss", ["-tlnH", $"( sport = :{port} )"]).Stdout.Contains($":{port}", StringComparison.Ordinal),
                TimeSpan.FromSeconds(20), "the server listening");

            var env = new Dictionary<string, string?>
            {
                ["LD_PRELOAD"] = RepoPaths.Shim,
                ["LANESHIM_AGENT"] = RepoPaths.Agent,
                ["LANESHIM_BROKER"] = $"unix:{socket}",
                ["LANESHIM_INCLUDE_LOOPBACK"] = "1",
                ["LANESHIM_DEADLINE_MS"] = "3000",
                ["LANESHIM_LOG"] = "info",
            };
            ProcessResult client = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", Client, port.ToString(CultureInfo.InvariantCulture)], env, TimeSpan.FromSeconds(60));

            Assert.AreEqual(0, client.ExitCode, client.Describe());
            string[] pacing = client.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string log = client.Describe() + "\n--- broker\n" + broker.Stdout + broker.Stderr;
            Assert.AreEqual("75000000", pacing[0], "the first connection gets the class rate (600 Mbit/s)\n" + log);
            Assert.AreEqual("50000000", pacing[1], "the second gets the 400 Mbit/s left of the 1 Gbit/s class capacity\n" + log);
            StringAssert.Contains(client.Stderr, "accepting the offer of 400000000 bit/s", log);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
