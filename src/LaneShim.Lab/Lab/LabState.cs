// LabState.cs - everything `laneshim-lab lab up` built, as written to /run/laneshim/lab/{name}/lab.json and read back by status, down, tests and the demo.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LaneShim.Lab.Lab;

/// <summary>
/// A running lab: namespaces, links (addresses, devices, rate, RTT, loss, queue), the emulator processes and
/// their stats files, and how flows are steered to the bypass. <see cref="Load"/> reads the lab a name refers to.
/// </summary>
internal sealed record LabState
{
    /// <summary>The lab name `laneshim-lab lab` uses without --name.</summary>
    public const string DefaultName = "lsl";

    /// <summary>Where every lab keeps its state directory.</summary>
    public const string StateRoot = "/run/laneshim/lab";

    /// <summary>The state file inside a lab's state directory.</summary>
    public const string StateFileName = "lab.json";

    /// <summary>The effective topology file inside a lab's state directory.</summary>
    public const string TopologyFileName = "topology.topo";

    /// <summary>The prefix of every namespace name (--name).</summary>
    public required string Name { get; init; }

    /// <summary>The first two octets of every address (--net), e.g. "10.50".</summary>
    public required string Net { get; init; }

    /// <summary>/run/laneshim/lab/{name}: lab.json, topology.topo, and each emulator's pidfile, stats and log.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>When `lab up` started building it.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>MTU of every lab device.</summary>
    public required int Mtu { get; init; }

    /// <summary>The five namespaces by role.</summary>
    public required LabNamespaces Namespaces { get; init; }

    /// <summary>The client host's address, e.g. 10.50.1.2.</summary>
    public required string ClientAddress { get; init; }

    /// <summary>The server host's address, e.g. 10.50.2.2.</summary>
    public required string ServerAddress { get; init; }

    /// <summary>client-edgea, path1 (edgea-mbox, emulated), mbox-edgeb, path2 (edgea-edgeb, emulated), edgeb-server.</summary>
    public required IReadOnlyList<LabLink> Links { get; init; }

    /// <summary>The default path, through the middlebox.</summary>
    public required LabPath Path1 { get; init; }

    /// <summary>The bypass (Science DMZ) path lanes are steered onto.</summary>
    public required LabPath Path2 { get; init; }

    /// <summary>How the broker moves a flow onto path 2.</summary>
    public required LabSteering Steering { get; init; }

    /// <summary>The firewall on path 1 and its counters.</summary>
    public required LabMiddlebox Middlebox { get; init; }

    /// <summary>The topology file (with this lab's parameters) for the broker.</summary>
    public required string TopologyFile { get; init; }

    /// <summary>The emulator binary the lab runs.</summary>
    public required string Linkemu { get; init; }

    /// <summary>The tcp_rmem/tcp_wmem maximum set in the client and server namespaces, bytes.</summary>
    public required long HostTcpBufferMax { get; init; }

    /// <summary>What the lab could not do itself, for the reader (e.g. the global net.core.*mem_max).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The line rate of a lane: path 2's bottleneck, bits/s.</summary>
    public ulong LineRateBps => Path2.RateBps;

    /// <summary>The configured RTT of a lane (path 2), ms.</summary>
    public double RttMs => Path2.RttMs;

    /// <summary>The link with this name ("path1", "path2", "client-edgea", ...).</summary>
    public LabLink Link(string name) => Links.FirstOrDefault(l => l.Name == name)
        ?? throw new ArgumentException($"lab '{Name}' has no link '{name}' (links: {string.Join(", ", Links.Select(l => l.Name))})", nameof(name));

    /// <summary>The state directory of the lab called <paramref name="name"/>.</summary>
    public static string DirectoryFor(string name) => Path.Combine(StateRoot, name);

    /// <summary>The state file of the lab called <paramref name="name"/>.</summary>
    public static string FileFor(string name) => Path.Combine(DirectoryFor(name), StateFileName);

    /// <summary>Reads the state of a running lab; throws <see cref="FileNotFoundException"/> saying how to start one when it is not up.</summary>
    public static LabState Load(string name = DefaultName)
    {
        string file = FileFor(name);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"no lab '{name}' is up ({file} does not exist); start one with: laneshim-lab lab up --name {name}", file);
        }
        return LoadFile(file);
    }

    /// <summary>Reads the state of a running lab, or null when it is not up.</summary>
    public static LabState? TryLoad(string name = DefaultName)
    {
        try
        {
            return File.Exists(FileFor(name)) ? LoadFile(FileFor(name)) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Reads a lab.json file; throws <see cref="JsonException"/> when it is not one.</summary>
    public static LabState LoadFile(string file)
    {
        using FileStream stream = File.OpenRead(file);
        return JsonSerializer.Deserialize(stream, LabStateJson.Default.LabState)
            ?? throw new JsonException($"{file}: empty lab state");
    }

    /// <summary>Writes the state file atomically (temporary file, then rename).</summary>
    public void Save()
    {
        string file = Path.Combine(StateDirectory, StateFileName);
        string temporary = file + ".tmp";
        using (FileStream stream = File.Create(temporary))
        {
            JsonSerializer.Serialize(stream, this, LabStateJson.Default.LabState);
        }
        File.Move(temporary, file, overwrite: true);
    }

    /// <summary>The state as JSON text, as in lab.json.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LabStateJson.Default.LabState);
}
