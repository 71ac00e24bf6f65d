// LabOptions.cs - the flags that describe a lab (`lab up` and `lab topology` share them) and their conversion to settings.
using System.CommandLine;
using LaneShim.Core;

namespace LaneShim.Lab.Lab;

/// <summary>Options for every lab parameter, with the defaults of the standard lab.</summary>
internal sealed class LabOptions
{
    public Option<string> Name { get; } = NameOption();

    public Option<string> Net { get; } = new("--net") { Description = "First two octets of every lab address (client NET.1.2, server NET.2.2).", DefaultValueFactory = _ => "10.50" };

    public Option<int> Mtu { get; } = new("--mtu") { Description = "MTU of every lab device.", DefaultValueFactory = _ => 9000 };

    public Option<string> P1Rate { get; } = new("--p1-rate") { Description = "Rate of path 1's emulated link (edgea-mbox).", DefaultValueFactory = _ => "100mbit" };

    public Option<string> P1Rtt { get; } = new("--p1-rtt") { Description = "Round-trip time of path 1 (half of it each way).", DefaultValueFactory = _ => "40ms" };

    public Option<string> P1Loss { get; } = new("--p1-loss") { Description = "Random loss on path 1, each direction.", DefaultValueFactory = _ => "0.01%" };

    public Option<string?> P1Queue { get; } = new("--p1-queue") { Description = "Queue limit of path 1, each direction (default: --queue)." };

    public Option<string> P2Rate { get; } = new("--p2-rate") { Description = "Rate of path 2, the bypass link (edgea-edgeb).", DefaultValueFactory = _ => "1gbit" };

    public Option<string> P2Rtt { get; } = new("--p2-rtt") { Description = "Round-trip time of path 2 (half of it each way).", DefaultValueFactory = _ => "40ms" };

    public Option<string> P2Loss { get; } = new("--p2-loss") { Description = "Random loss on path 2, each direction.", DefaultValueFactory = _ => "0" };

    public Option<string?> P2Queue { get; } = new("--p2-queue") { Description = "Queue limit of path 2, each direction (default: --queue)." };

    public Option<string> Queue { get; } = new("--queue") { Description = "Tail-drop queue limit of each emulated direction: a size (750K, 7.5MB) or a multiple of the link's BDP.", DefaultValueFactory = _ => "1.5bdp" };

    public Option<string> LanCapacity { get; } = new("--lan-capacity") { Description = "Capacity the topology file gives the unshaped veth links.", DefaultValueFactory = _ => "10gbit" };

    public Option<string> HostTcpMem { get; } = new("--host-tcp-mem") { Description = "tcp_rmem maximum in the client and server namespaces; their tcp_wmem and congestion control are stock Linux (net.core.*mem_max is global and left alone).", DefaultValueFactory = _ => "64M" };

    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of path 1's loss generator (path 2 uses the next number).", DefaultValueFactory = _ => 1 };

    public Option<int> RtPriority { get; } = new("--rt-priority") { Description = "Run the emulators' forwarding threads SCHED_FIFO at this priority (0: normal scheduling).", DefaultValueFactory = _ => 0 };

    /// <summary>--name, for the verbs that only need it.</summary>
    public static Option<string> NameOption() => new("--name")
    {
        Description = "The lab's name: the prefix of its namespaces (NAME-client, NAME-edgea, NAME-mbox, NAME-edgeb, NAME-server).",
        DefaultValueFactory = _ => LabState.DefaultName,
    };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Name, Net, Mtu, P1Rate, P1Rtt, P1Loss, P1Queue, P2Rate, P2Rtt, P2Loss, P2Queue, Queue, LanCapacity, HostTcpMem, Seed, RtPriority })
        {
            command.Add(o);
        }
    }

    /// <summary>The validated settings; throws <see cref="FormatException"/> naming the flag.</summary>
    public LabSettings ToSettings(ParseResult parse)
    {
        LabQueue shared = Parse("--queue", () => LabQueue.Parse(parse.GetValue(Queue)!));
        LabLinkSettings Link(string flag, Option<string> rate, Option<string> rtt, Option<string> loss, Option<string?> queue) => new(
            Parse(flag + "-rate", () => Units.ParseRate(parse.GetValue(rate)!)),
            Parse(flag + "-rtt", () => Units.ParseDuration(parse.GetValue(rtt)!)),
            Parse(flag + "-loss", () => LabUnits.ParseLoss(parse.GetValue(loss)!)),
            parse.GetValue(queue) is string text ? Parse(flag + "-queue", () => LabQueue.Parse(text)) : shared);
        var settings = new LabSettings
        {
            Name = parse.GetValue(Name)!,
            Net = parse.GetValue(Net)!,
            Mtu = parse.GetValue(Mtu),
            Path1 = Link("--p1", P1Rate, P1Rtt, P1Loss, P1Queue),
            Path2 = Link("--p2", P2Rate, P2Rtt, P2Loss, P2Queue),
            LanCapacityBps = Parse("--lan-capacity", () => Units.ParseRate(parse.GetValue(LanCapacity)!)),
            HostTcpBufferMax = Parse("--host-tcp-mem", () => Units.ParseSize(parse.GetValue(HostTcpMem)!)),
            Seed = parse.GetValue(Seed),
            RtPriority = parse.GetValue(RtPriority),
        };
        settings.Validate();
        return settings;
    }

    private static T Parse<T>(string flag, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            throw new FormatException($"{flag}: {e.Message}", e);
        }
    }
}
