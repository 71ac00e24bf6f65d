// LabBroker.cs - one lab and one steering broker over it, shared by a test class: leases, rules and the middlebox's counters.
using System.Net;
using LaneShim.Grpc;
using LaneShim.Lab.Lab;
using LaneShim.Protocol.V1;
using LaneShim.Testing;

namespace LaneShim.EndToEnd.Tests.Lab;

/// <summary>`laneshim-lab lab up`, then `laneshim broker` with the lab's topology and the Linux-router backend; all gone on dispose.</summary>
internal sealed class LabBroker : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);
    private readonly string _dir;
    private readonly BackgroundProcess _broker;

    public LabBroker(string name, string policy)
    {
        Name = name;
        _dir = System.IO.Directory.CreateTempSubdirectory("laneshim-labbroker-").FullName;
        ProcessResult up = ProcessRunner.Run(RepoPaths.Lab, ["lab", "up", "--name", name, "-q", "--force"], timeout: TimeSpan.FromSeconds(90));
        if (up.ExitCode != 0)
        {
            throw new InvalidOperationException(up.Describe());
        }
        Lab = LabState.Load(name);
        string policyFile = Path.Combine(_dir, "lanes.conf");
        File.WriteAllText(policyFile, policy);
        Socket = Path.Combine(_dir, "broker.sock");
        _broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{Socket}", "--policy", policyFile,
            "--topology", Lab.TopologyFile, "--enforce", "linux-router", "--verbose"]);
        _broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
        Client = BrokerChannel.Open(BrokerAddress.Parse($"unix:{Socket}"));
    }

    public string Name { get; }

    public LabState Lab { get; }

    /// <summary>The broker's Unix socket.</summary>
    public string Socket { get; }

    public BrokerChannel Client { get; }

    /// <summary>The broker's output so far (for assertion messages).</summary>
    public string Log => _broker.Stdout + _broker.Stderr;

    /// <summary>A temporary directory for the test's own files.</summary>
    public string Directory => _dir;

    /// <summary>The environment that puts a program under the shim, talking to this broker.</summary>
    public Dictionary<string, string?> Shim() => new()
    {
        ["LD_PRELOAD"] = RepoPaths.Shim,
        ["LANESHIM_AGENT"] = RepoPaths.Agent,
        ["LANESHIM_BROKER"] = $"unix:{Socket}",
    };

    /// <summary>The live leases of connections (not listeners) with <paramref name="port"/> at either end.</summary>
    public IReadOnlyList<Lease> LeasesOn(int port) =>
        Client.Call((c, o) => c.ListLeases(new ListLeasesRequest(), o), Deadline).Leases
            .Where(l => l.Flow.Direction != Direction.Listen && (l.Flow.Local.Port == port || l.Flow.Remote.Port == port)).ToList();

    /// <summary>Whether any edge router still steers a flow to or from <paramref name="clientPort"/> of the lab's client.</summary>
    public bool Steers(int clientPort) =>
        new[] { Lab.Namespaces.EdgeA, Lab.Namespaces.EdgeB }.Any(r => Nft(r).Contains($"{Lab.ClientAddress} . {clientPort} ", StringComparison.Ordinal));

    /// <summary>Packets the middlebox forwarded so far.</summary>
    public long MiddleboxPackets => LabCounters.Middlebox(Lab).ForwardedPackets;

    /// <summary>The lab client's port of a lease's connection.</summary>
    public int ClientPort(Lease lease) =>
        (int)(Address(lease.Flow.Local) == Lab.ClientAddress ? lease.Flow.Local.Port : lease.Flow.Remote.Port);

    public void Dispose()
    {
        Client.Dispose();
        _broker.Dispose();
        ProcessRunner.Run(RepoPaths.Lab, ["lab", "down", "--name", Name], timeout: TimeSpan.FromSeconds(60));
        System.IO.Directory.Delete(_dir, recursive: true);
    }

    private static string Address(Endpoint endpoint) => endpoint.Address.Length is 4 or 16 ? new IPAddress(endpoint.Address.Span).ToString() : "";

    private static string Nft(string netns) => ProcessRunner.Run("/sbin/ip", ["netns", "exec", netns, "nft", "list", "set", "inet", "laneshim", "lanes4"]).Stdout;
}
