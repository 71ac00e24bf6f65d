// MarkdownDocument.cs - finds a section of a Markdown page (README.md, docs/) by its heading, so the man pages quote the reference text instead of copying it.
namespace LaneShim.ManPages;

/// <summary>A Markdown file split at its headings.</summary>
internal sealed class MarkdownDocument(string text, string path)
{
    private readonly string[] _lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');

    /// <summary>
    /// The body of the section whose heading is <paramref name="heading"/> (without the #s), up to the next heading of
    /// the same or a higher level, or up to the first subsection when <paramref name="withSubsections"/> is false.
    /// </summary>
    public string Section(string heading, bool withSubsections = true)
    {
        int start = -1, level = 0;
        bool fenced = false;
        var body = new List<string>();
        for (int i = 0; i < _lines.Length; i++)
        {
            string line = _lines[i];
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
            }
            int hashes = fenced ? 0 : HeadingLevel(line);
            if (start < 0)
            {
                if (hashes > 0 && line[(hashes + 1)..].Trim() == heading)
                {
                    start = i;
                    level = hashes;
                }
                continue;
            }
            if (hashes > 0 && (hashes <= level || !withSubsections))
            {
                break;
            }
            body.Add(line);
        }
        if (start < 0)
        {
            throw new InvalidOperationException($"{path}: no section '{heading}' (the man pages quote it)");
        }
        return string.Join('\n', body).Trim('\n');
    }

    private static int HeadingLevel(string line)
    {
        int n = 0;
        while (n < line.Length && line[n] == '#')
        {
            n++;
        }
        return n > 0 && n < line.Length && line[n] == ' ' ? n : 0;
    }
}
