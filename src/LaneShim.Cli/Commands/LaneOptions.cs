// LaneOptions.cs - the flags that describe one ad-hoc lane class (--rate, --rtt, --cc, --dscp), shared by run and broker.
using System.CommandLine;
using LaneShim.Broker;
using LaneShim.Core;

namespace LaneShim.Cli.Commands;

/// <summary>Options for a broker's single default lane class.</summary>
internal sealed class LaneOptions
{
    public Option<string?> Rate { get; } = new("--rate") { Description = "Lane rate, e.g. 1gbit, 400mbit (default: the egress interface's speed from sysfs)." };

    public Option<string?> Rtt { get; } = new("--rtt") { Description = "Path RTT to size buffers for, e.g. 40ms, or 'learn' (default: learn from the flows' own TCP_INFO, assuming 100ms until the first sample)." };

    public Option<string?> Cc { get; } = new("--cc") { Description = "Congestion control for lane sockets, e.g. bbr, cubic (default: the system's)." };

    public Option<int?> Dscp { get; } = new("--dscp") { Description = "DSCP to mark lane traffic with, 0-63 (default 0: unmarked)." };

    public void AddTo(Command command)
    {
        command.Add(Rate);
        command.Add(Rtt);
        command.Add(Cc);
        command.Add(Dscp);
    }

    /// <summary>Broker options from the flags; throws FormatException with a readable message.</summary>
    public BrokerOptions ToBrokerOptions(ParseResult parse, string? policyFile)
    {
        ulong rate;
        string? rateText = parse.GetValue(Rate);
        if (rateText is null)
        {
            (rate, string source) = EgressProbe.DefaultRate();
            _ = source;
        }
        else if (!Units.TryParseRate(rateText, out rate, out string rateError))
        {
            throw new FormatException($"--rate: {rateError}");
        }
        TimeSpan? rtt = null;
        string rttText = parse.GetValue(Rtt) ?? "learn";
        if (!string.Equals(rttText, "learn", StringComparison.OrdinalIgnoreCase))
        {
            if (!Units.TryParseDuration(rttText, out TimeSpan parsed, out string rttError))
            {
                throw new FormatException($"--rtt: {rttError}");
            }
            rtt = parsed;
        }
        int dscp = parse.GetValue(Dscp) ?? 0;
        if (dscp is < 0 or > 63)
        {
            throw new FormatException($"--dscp: {dscp} is not 0-63");
        }
        return new BrokerOptions
        {
            PolicyFile = policyFile,
            RateBps = rate,
            Rtt = rtt,
            Congestion = parse.GetValue(Cc) ?? "",
            Dscp = dscp,
            Bulk = true, // one class for every flow: listening sockets get their receive buffer before listen() too
        };
    }
}
