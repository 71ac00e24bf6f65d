// SocketSnapshot.cs - what `ss -tnmi` reports for one TCP socket: congestion control, buffers, pacing.
using System.Text.RegularExpressions;

namespace LaneShim.Testing;

/// <summary>One established socket as the kernel reports it through ss -n (rates in bits/s), for programs the test cannot instrument.</summary>
public sealed partial record SocketSnapshot(string Local, string Peer, string Congestion, long SendBuffer, long ReceiveBuffer, long? PacingRateBps, long? MaxPacingRateBps, string Raw)
{
    /// <summary>Established TCP sockets in a namespace (null: this one) whose peer port is <paramref name="peerPort"/>.</summary>
    public static IReadOnlyList<SocketSnapshot> Query(string? netns, int peerPort)
    {
        string filter = $"( dport = :{peerPort} )";
        string[] args = netns is null
            ? ["-tnmiH", "state", "established", filter]
            : ["netns", "exec", netns, "ss", "-tnmiH", "state", "established", filter];
        ProcessResult r = ProcessRunner.Run(netns is null ? "ss" : "/sbin/ip", args, timeout: TimeSpan.FromSeconds(10));
        return Parse(r.Stdout);
    }

    /// <summary>Parses `ss -tnmiH` output: a line with the addresses, then an indented line of details.</summary>
    public static IReadOnlyList<SocketSnapshot> Parse(string output)
    {
        var result = new List<SocketSnapshot>();
        string[] lines = output.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0 || char.IsWhiteSpace(lines[i][0]))
            {
                continue;
            }
            string[] head = lines[i].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            string details = string.Join(' ', head.Skip(4));
            while (i + 1 < lines.Length && lines[i + 1].Length > 0 && char.IsWhiteSpace(lines[i + 1][0]))
            {
                details += " " + lines[++i].Trim();
            }
            Match m = Skmem().Match(details);
            if (head.Length < 4 || !m.Success)
            {
                continue;
            }
            Match cc = Cc().Match(" " + details + " ");
            Match pacing = Pacing().Match(details + " ");
            result.Add(new SocketSnapshot(head[2], head[3], cc.Success ? cc.Groups[1].Value : "",
                long.Parse(m.Groups["tb"].Value), long.Parse(m.Groups["rb"].Value),
                pacing.Success ? long.Parse(pacing.Groups[1].Value) : null,
                pacing.Success && pacing.Groups[2].Success ? long.Parse(pacing.Groups[2].Value) : null, details));
        }
        return result;
    }

    [GeneratedRegex(@"skmem:\(r\d+,rb(?<rb>\d+),t\d+,tb(?<tb>\d+)")]
    private static partial Regex Skmem();

    [GeneratedRegex(@"\s(cubic|bbr|reno|htcp|dctcp|vegas|westwood)\s")]
    private static partial Regex Cc();

    [GeneratedRegex(@"pacing_rate (\d+)bps(?:/(\d+)bps)?\s")]
    private static partial Regex Pacing();
}
