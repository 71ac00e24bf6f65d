// GrantSetsockopts.cs - the setsockopt calls the agent makes on a socket for a cached grant, as strace saw them, for the C floor loop.
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LaneShim.Lab.Bench;

/// <summary>
/// Reads an <c>strace -f -X raw -e trace=socket,setsockopt,connect</c> log of one laneshim-bench connect run and returns the
/// setsockopt calls made on the last socket that connected to the server, between its socket() and its connect(), as
/// <c>laneshim-bench setsockopt</c> arguments (<c>LEVEL:NAME:int|u64|str:VALUE</c>). The harness's own SO_LINGER (every mode
/// sets it) is left out: its value is a struct, not a number or a name.
/// </summary>
internal static partial class GrantSetsockopts
{
    /// <summary>The calls, or null with <paramref name="why"/> when the log shows no connect to <paramref name="server"/>.</summary>
    public static IReadOnlyList<string>? Parse(string straceLog, string server, out string why)
    {
        // -X raw prints the address as its bytes: sin_addr="\x0a\xd5\x01\x02".
        string raw = "sin_addr=\"" + string.Concat(System.Net.IPAddress.Parse(server).GetAddressBytes().Select(b => $"\\x{b:x2}")) + "\"";
        var calls = new Dictionary<string, List<string>>(); // by descriptor: the agent's threads may open sockets in between
        IReadOnlyList<string>? last = null;
        foreach (string line in straceLog.Split('\n'))
        {
            if (SocketLine().Match(line) is { Success: true } s)
            {
                calls[s.Groups["fd"].Value] = [];
            }
            else if (SetsockoptLine().Match(line) is { Success: true } o && calls.TryGetValue(o.Groups["fd"].Value, out List<string>? list))
            {
                if (Argument(o.Groups["level"].Value, o.Groups["name"].Value, o.Groups["value"].Value, int.Parse(o.Groups["len"].Value, CultureInfo.InvariantCulture)) is string call)
                {
                    list.Add(call);
                }
            }
            else if (ConnectLine().Match(line) is { Success: true } c && (line.Contains($"\"{server}\"", StringComparison.Ordinal) || line.Contains(raw, StringComparison.Ordinal))
                && calls.TryGetValue(c.Groups["fd"].Value, out List<string>? made))
            {
                last = made;
            }
        }
        why = last is null ? $"strace saw no connect to {server}" : "";
        return last;
    }

    private static string? Argument(string level, string name, string value, int length)
    {
        int l = Convert.ToInt32(level, level.StartsWith("0x", StringComparison.Ordinal) ? 16 : 10);
        int n = Convert.ToInt32(name, name.StartsWith("0x", StringComparison.Ordinal) ? 16 : 10);
        if (value.StartsWith('[') && value.EndsWith(']'))
        {
            return $"{l}:{n}:{(length == 8 ? "u64" : "int")}:{value[1..^1]}";
        }
        if (!value.StartsWith('"') || !value.EndsWith('"'))
        {
            return null; // a struct (SO_LINGER): the harness's own
        }
        byte[] bytes = Unescape(value[1..^1]);
        if (bytes.Length == length && bytes.All(b => b is >= 0x21 and < 0x7f))
        {
            return $"{l}:{n}:str:{Encoding.ASCII.GetString(bytes)}"; // a name (TCP_CONGESTION)
        }
        return length switch
        {
            8 when bytes.Length == 8 => $"{l}:{n}:u64:{BitConverter.ToUInt64(bytes)}", // SO_MAX_PACING_RATE, printed as bytes
            4 when bytes.Length == 4 => $"{l}:{n}:int:{BitConverter.ToInt32(bytes)}",
            _ => null,
        };
    }

    // strace's C string escapes: \n \t \" \\ \ooo (octal, 1-3 digits) \xhh.
    private static byte[] Unescape(string text)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length)
            {
                bytes.Add((byte)text[i]);
                continue;
            }
            char e = text[++i];
            if (e is >= '0' and <= '7')
            {
                int v = 0, digits = 0;
                while (digits < 3 && i < text.Length && text[i] is >= '0' and <= '7')
                {
                    v = v * 8 + (text[i++] - '0');
                    digits++;
                }
                i--;
                bytes.Add((byte)v);
            }
            else if (e == 'x' && i + 2 < text.Length)
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', 'v' => '\v', 'f' => '\f', _ => e }));
            }
        }
        return [.. bytes];
    }

    [GeneratedRegex(@"^\d+\s+socket\([^)]*\)\s*= (?<fd>\d+)$")]
    private static partial Regex SocketLine();

    [GeneratedRegex(@"^\d+\s+setsockopt\((?<fd>\d+), (?<level>0x[0-9a-f]+|\d+), (?<name>0x[0-9a-f]+|\d+), (?<value>.*), (?<len>\d+)\)\s*= 0$")]
    private static partial Regex SetsockoptLine();

    [GeneratedRegex(@"^\d+\s+connect\((?<fd>\d+), ")]
    private static partial Regex ConnectLine();
}
