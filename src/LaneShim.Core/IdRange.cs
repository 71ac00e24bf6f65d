// IdRange.cs - one numeric user or group id, or an inclusive range of them.
using System.Globalization;

namespace LaneShim.Core;

/// <summary>An inclusive range of uids or gids.</summary>
/// <param name="First">The first id.</param>
/// <param name="Last">The last id.</param>
public readonly record struct IdRange(uint First, uint Last)
{
    /// <summary>Parses "1000" or "1000-1999". <paramref name="kind"/> ("uid" or "gid") names the value in errors.</summary>
    public static bool TryParse(string? text, string kind, out IdRange range, out string error)
    {
        range = default;
        string s = text?.Trim() ?? string.Empty;
        if (s.Length > 0 && !char.IsAsciiDigit(s[0]))
        {
            string tool = kind == "gid" ? "getent group " + s : "id -u " + s;
            error = $"{kind} '{s}': names are not supported, use the number ({tool})";
            return false;
        }

        int dash = s.IndexOf('-');
        string firstText = dash < 0 ? s : s[..dash];
        string lastText = dash < 0 ? s : s[(dash + 1)..];
        if (!TryParseId(firstText, out uint first) || !TryParseId(lastText, out uint last))
        {
            error = $"bad {kind} '{s}' (expected a number or a range such as 1000-1999)";
            return false;
        }

        if (first > last)
        {
            error = $"bad {kind} range '{s}' (first is above last)";
            return false;
        }

        range = new IdRange(first, last);
        error = string.Empty;
        return true;
    }

    /// <summary>True when <paramref name="id"/> is in the range.</summary>
    public bool Contains(uint id) => id >= First && id <= Last;

    private static bool TryParseId(string text, out uint id)
    {
        id = 0;
        return text.Length is >= 1 and <= 10 && text.All(char.IsAsciiDigit)
            && uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }
}
