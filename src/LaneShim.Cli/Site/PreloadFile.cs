// PreloadFile.cs - adds or removes one library line in /etc/ld.so.preload text, keeping every other entry and comment.
namespace LaneShim.Cli.Site;

/// <summary>
/// ld.so.preload lists libraries separated by spaces, tabs or newlines, with `#` comments. We add our own line and
/// remove only the tokens equal to it, so other preloads (and their order) stay.
/// </summary>
internal static class PreloadFile
{
    /// <summary>True when <paramref name="entry"/> is already listed (outside a comment).</summary>
    public static bool Contains(string text, string entry) =>
        text.Split('\n').Any(line => Tokens(line).Contains(entry));

    /// <summary>The text with <paramref name="entry"/> on a line of its own at the end; unchanged if already listed.</summary>
    public static string Add(string text, string entry)
    {
        if (Contains(text, entry))
        {
            return text;
        }
        string prefix = text.Length == 0 || text.EndsWith('\n') ? text : text + "\n";
        return prefix + entry + "\n";
    }

    /// <summary>The text without <paramref name="entry"/>; a line that held only it disappears.</summary>
    public static string Remove(string text, string entry)
    {
        var lines = new List<string>();
        foreach (string line in text.Split('\n'))
        {
            if (!Tokens(line).Contains(entry))
            {
                lines.Add(line);
                continue;
            }
            int hash = line.IndexOf('#');
            string code = hash < 0 ? line : line[..hash];
            string comment = hash < 0 ? "" : line[hash..];
            string kept = string.Join(' ', code.Split([' ', '\t', ':'], StringSplitOptions.RemoveEmptyEntries).Where(t => t != entry));
            string rebuilt = kept.Length == 0 ? comment : comment.Length == 0 ? kept : kept + " " + comment;
            if (rebuilt.Length > 0)
            {
                lines.Add(rebuilt);
            }
        }
        return string.Join('\n', lines);
    }

    private static IEnumerable<string> Tokens(string line)
    {
        int hash = line.IndexOf('#');
        return (hash < 0 ? line : line[..hash]).Split([' ', '\t', ':'], StringSplitOptions.RemoveEmptyEntries);
    }
}
