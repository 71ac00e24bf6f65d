// LabSettings.cs - the validated parameters of `laneshim-lab lab up`, one per flag.
using System.Globalization;
using System.Text.RegularExpressions;

namespace LaneShim.Lab.Lab;

/// <summary>Everything a lab is built from; <see cref="Validate"/> names the flag that is wrong.</summary>
internal sealed partial record LabSettings
{
    public string Name { get; init; } = LabState.DefaultName;

    /// <summary>First two octets of every address.</summary>
    public string Net { get; init; } = "10.50";

    public int Mtu { get; init; } = 9000;

    /// <summary>Path 1's emulated hop (edgea-mbox): 100 Mbit/s, 40 ms, 0.01% loss.</summary>
    public LabLinkSettings Path1 { get; init; } = new(100_000_000, TimeSpan.FromMilliseconds(40), 0.0001, LabQueue.Default);

    /// <summary>Path 2, the bypass (edgea-edgeb): 1 Gbit/s, 40 ms, clean.</summary>
    public LabLinkSettings Path2 { get; init; } = new(1_000_000_000, TimeSpan.FromMilliseconds(40), 0, LabQueue.Default);

    /// <summary>The capacity the topology gives the unshaped veth links.</summary>
    public ulong LanCapacityBps { get; init; } = 10_000_000_000;

    /// <summary>The congestion control of the host namespaces: stock Linux's default (this machine's may differ).</summary>
    public const string StockCongestion = "cubic";

    /// <summary>net.ipv4.tcp_wmem of the host namespaces: stock Linux's (a 4 MiB send autotuning ceiling).</summary>
    public const string StockTcpWmem = "4096 16384 4194304";

    /// <summary>tcp_rmem maximum in the host namespaces, so the link and not the receiver's host limits a flow.</summary>
    public long HostTcpBufferMax { get; init; } = 64L << 20;

    /// <summary>Seed of path 1's loss generator; path 2 uses the next number.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>SCHED_FIFO priority for the emulators' forwarding threads; 0 = normal scheduling.</summary>
    public int RtPriority { get; init; }

    /// <summary>How often the emulators rewrite their stats files.</summary>
    public TimeSpan StatsInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Throws <see cref="FormatException"/> naming the first flag whose value cannot build a lab.</summary>
    public void Validate()
    {
        if (!NamePattern().IsMatch(Name))
        {
            throw new FormatException($"--name '{Name}': use 1-16 letters, digits or '_', starting with a letter (namespaces are NAME-client, NAME-edgea, ...)");
        }
        string[] octets = Net.Split('.');
        if (octets.Length != 2 || octets.Any(o => !byte.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            throw new FormatException($"--net '{Net}': give the first two octets of the lab's addresses, e.g. 10.50");
        }
        if (Mtu is < 576 or > 65535)
        {
            throw new FormatException($"--mtu {Mtu}: must be 576-65535");
        }
        Check("--p1", Path1);
        Check("--p2", Path2);
        if (HostTcpBufferMax < 1 << 20)
        {
            throw new FormatException($"--host-tcp-mem {HostTcpBufferMax}: at least 1 MiB");
        }
        if (RtPriority is < 0 or > 99)
        {
            throw new FormatException($"--rt-priority {RtPriority}: 0 (normal scheduling) or 1-99");
        }
    }

    private static void Check(string flag, LabLinkSettings link)
    {
        if (link.RateBps < 1000)
        {
            throw new FormatException($"{flag}-rate: at least 1kbit");
        }
        if (link.Rtt < TimeSpan.Zero || link.Rtt > TimeSpan.FromSeconds(10))
        {
            throw new FormatException($"{flag}-rtt: 0 to 10s");
        }
        if (link.Loss is < 0 or >= 1)
        {
            throw new FormatException($"{flag}-loss: a probability below 100%");
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,15}$")]
    private static partial Regex NamePattern();
}
