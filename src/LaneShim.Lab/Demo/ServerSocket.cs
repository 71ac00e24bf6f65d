// ServerSocket.cs - one of the server's established TCP sockets as `ss -tnmiH` reports it: its ends, cc, send buffer, pacing, bytes.
using System.Globalization;
using System.Text.RegularExpressions;

namespace LaneShim.Lab.Demo;

/// <summary>
/// What the kernel says of one socket: <see cref="SendBuffer"/> is sk_sndbuf (skmem tb, what getsockopt(SO_SNDBUF)
/// returns: twice what a program asked for), <see cref="MaxPacingBps"/> SO_MAX_PACING_RATE in bit/s (null: none).
/// </summary>
internal sealed partial record ServerSocket(string Local, string Peer, string Congestion, long SendBuffer, long? MaxPacingBps, long BytesAcked, long BytesReceived)
{
    /// <summary>Bytes moved either way: the data socket of a run is the one that moved most.</summary>
    public long Moved => BytesAcked + BytesReceived;

    /// <summary>The sockets in `ss -tnmiH` output: a line with queues and addresses, then an indented line of details.</summary>
    public static IReadOnlyList<ServerSocket> Parse(string output)
    {
        var sockets = new List<ServerSocket>();
        string[] lines = output.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string[] head = lines[i].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (lines[i].Length == 0 || char.IsWhiteSpace(lines[i][0]) || head.Length < 4)
            {
                continue;
            }
            string details = " " + string.Join(' ', head.Skip(4));
            while (i + 1 < lines.Length && lines[i + 1].Length > 0 && char.IsWhiteSpace(lines[i + 1][0]))
            {
                details += " " + lines[++i].Trim();
            }
            details += " ";
            if (SendBufferField().Match(details) is not { Success: true } tb)
            {
                continue;
            }
            Match pacing = PacingField().Match(details);
            sockets.Add(new ServerSocket(Plain(head[2]), Plain(head[3]), CongestionField().Match(details) is { Success: true } cc ? cc.Groups[1].Value : "",
                long.Parse(tb.Groups[1].Value, CultureInfo.InvariantCulture),
                pacing.Success && pacing.Groups[1].Success ? long.Parse(pacing.Groups[1].Value, CultureInfo.InvariantCulture) : null,
                Counter(details, "bytes_acked"), Counter(details, "bytes_received")));
        }
        return sockets;
    }

    // A dual-stack socket's IPv4 peer as IPv4 ([::ffff:10.50.1.2]:80 as 10.50.1.2:80), so it compares with a lease's ends.
    private static string Plain(string endpoint) =>
        System.Net.IPEndPoint.TryParse(endpoint, out System.Net.IPEndPoint? e) && e.Address.IsIPv4MappedToIPv6
            ? new System.Net.IPEndPoint(e.Address.MapToIPv4(), e.Port).ToString()
            : endpoint;

    private static long Counter(string details, string name)
    {
        int at = details.IndexOf($" {name}:", StringComparison.Ordinal);
        if (at < 0)
        {
            return 0;
        }
        ReadOnlySpan<char> rest = details.AsSpan(at + name.Length + 2);
        int end = rest.IndexOf(' ');
        return long.TryParse(end < 0 ? rest : rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : 0;
    }

    [GeneratedRegex(@"skmem:\([^)]*,tb(\d+)")]
    private static partial Regex SendBufferField();

    // ss prints the congestion control's name as a word of its own among the details.
    [GeneratedRegex(@"\s(cubic|bbr|bbr2|reno|htcp|dctcp|vegas|westwood|illinois|hybla|scalable|yeah|bic|highspeed|lp|nv|cdg)\s")]
    private static partial Regex CongestionField();

    // pacing_rate CURRENT[/MAX]: only the maximum is what a program (or a lane) set.
    [GeneratedRegex(@"\spacing_rate \d+bps/(\d+)bps\s")]
    private static partial Regex PacingField();
}
