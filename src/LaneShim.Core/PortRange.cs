// PortRange.cs - one TCP port or an inclusive range of them, as rules list them.
using System.Globalization;

namespace LaneShim.Core;

/// <summary>An inclusive range of ports, 1-65535.</summary>
/// <param name="First">The first port.</param>
/// <param name="Last">The last port (equal to <paramref name="First"/> for one port).</param>
public readonly record struct PortRange(int First, int Last)
{
    /// <summary>Parses "5201" or "50000-51000".</summary>
    public static bool TryParse(string? text, out PortRange range, out string error)
    {
        range = default;
        string s = text?.Trim() ?? string.Empty;
        int dash = s.IndexOf('-');
        string firstText = dash < 0 ? s : s[..dash];
        string lastText = dash < 0 ? s : s[(dash + 1)..];
        if (!TryParsePort(firstText, out int first) || !TryParsePort(lastText, out int last))
        {
            error = $"bad port '{text}' (ports are 1-65535; ranges are first-last)";
            return false;
        }

        if (first > last)
        {
            error = $"bad port range '{text}' (first is above last)";
            return false;
        }

        range = new PortRange(first, last);
        error = string.Empty;
        return true;
    }

    /// <summary>True when <paramref name="port"/> is in the range.</summary>
    public bool Contains(int port) => port >= First && port <= Last;

    /// <summary>"5201" or "50000-51000".</summary>
    public override string ToString() => First == Last
        ? First.ToString(CultureInfo.InvariantCulture)
        : $"{First.ToString(CultureInfo.InvariantCulture)}-{Last.ToString(CultureInfo.InvariantCulture)}";

    private static bool TryParsePort(string text, out int port)
    {
        port = 0;
        return text.Length is >= 1 and <= 5 && text.All(char.IsAsciiDigit)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port)
            && port is >= 1 and <= 65535;
    }
}
