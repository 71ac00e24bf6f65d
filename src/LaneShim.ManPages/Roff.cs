// Roff.cs - turns the docs' Markdown (paragraphs, lists, tables, code blocks, inline code) into man(7) requests.
using System.Text;
using System.Text.RegularExpressions;

namespace LaneShim.ManPages;

/// <summary>A small Markdown-to-man(7) converter for the subset the docs use.</summary>
internal static partial class Roff
{
    /// <summary>Text escaped for roff, with `code` and **bold** in bold and [links](...) as their text.</summary>
    public static string Inline(string text)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < text.Length)
        {
            if (text[i] == '`' && text.IndexOf('`', i + 1) is int end and > 0)
            {
                sb.Append(@"\fB").Append(Escape(text[(i + 1)..end], minus: true)).Append(@"\fR");
                i = end + 1;
            }
            else if (text.AsSpan(i).StartsWith("**") && text.IndexOf("**", i + 2, StringComparison.Ordinal) is int close and > 0)
            {
                sb.Append(@"\fB").Append(Inline(text[(i + 2)..close])).Append(@"\fR");
                i = close + 2;
            }
            else
            {
                int next = NextMarkup(text, i);
                sb.Append(Escape(Links().Replace(text[i..next], "$1"), minus: false));
                i = next;
            }
        }
        return sb.ToString();
    }

    /// <summary>Escapes backslashes (and minus signs, for text meant to be typed).</summary>
    public static string Escape(string text, bool minus)
    {
        string escaped = text.Replace(@"\", @"\e", StringComparison.Ordinal);
        return minus ? escaped.Replace("-", @"\-", StringComparison.Ordinal) : escaped;
    }

    /// <summary>A line that roff would take for a request when it starts with . or ' gets a zero-width guard.</summary>
    public static string Line(string text) => text.StartsWith('.') || text.StartsWith('\'') ? @"\&" + text : text;

    /// <summary>Markdown blocks as man(7): .PP paragraphs, .IP bullets, .TP table rows, .nf code blocks.</summary>
    public static string Blocks(string markdown)
    {
        var sb = new StringBuilder();
        string[] lines = markdown.Split('\n');
        int i = 0;
        while (i < lines.Length)
        {
            string line = lines[i];
            if (line.Trim().Length == 0)
            {
                i++;
            }
            else if (line.StartsWith("```", StringComparison.Ordinal))
            {
                sb.Append(".PP\n.RS 4\n.nf\n");
                for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++)
                {
                    sb.Append(Line(Escape(lines[i], minus: true))).Append('\n');
                }
                sb.Append(".fi\n.RE\n");
                i++;
            }
            else if (line.StartsWith('|'))
            {
                string[] header = Cells(line);
                for (i += 2; i < lines.Length && lines[i].StartsWith('|'); i++)
                {
                    string[] cells = Cells(lines[i]);
                    sb.Append(".TP\n").Append(Line(Inline(cells[0]))).Append('\n');
                    var rest = new List<string>();
                    for (int c = 1; c < cells.Length; c++)
                    {
                        if (cells[c].Length == 0)
                        {
                            continue;
                        }
                        rest.Add(cells.Length == 2 || c == 1 ? Inline(cells[c]) : $"{Escape(header[c], minus: false)}: {Inline(cells[c])}");
                    }
                    sb.Append(Line(string.Join("; ", rest))).Append('\n');
                }
            }
            else if (line.StartsWith("- ", StringComparison.Ordinal) || DigitItem().IsMatch(line))
            {
                var item = new StringBuilder(line[(line.IndexOf(' ') + 1)..]);
                for (i++; i < lines.Length && lines[i].StartsWith("  ", StringComparison.Ordinal); i++)
                {
                    item.Append(' ').Append(lines[i].Trim());
                }
                string bullet = line.StartsWith('-') ? @"\(bu" : line[..line.IndexOf(' ')];
                sb.Append(".IP ").Append(bullet).Append(" 4\n").Append(Line(Inline(item.ToString()))).Append('\n');
            }
            else
            {
                var paragraph = new List<string>();
                for (; i < lines.Length && lines[i].Trim().Length > 0 && !lines[i].StartsWith("```", StringComparison.Ordinal)
                       && !lines[i].StartsWith('|') && !lines[i].StartsWith("- ", StringComparison.Ordinal); i++)
                {
                    paragraph.Add(lines[i].Trim());
                }
                sb.Append(".PP\n").Append(Line(Inline(string.Join(' ', paragraph)))).Append('\n');
            }
        }
        return sb.ToString();
    }

    private static string[] Cells(string row) => row.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();

    private static int NextMarkup(string text, int from)
    {
        int tick = text.IndexOf('`', from + 1), bold = text.IndexOf("**", from + 1, StringComparison.Ordinal);
        int next = text.Length;
        if (tick > 0)
        {
            next = Math.Min(next, tick);
        }
        if (bold > 0)
        {
            next = Math.Min(next, bold);
        }
        return from < text.Length && (text[from] == '`' || text.AsSpan(from).StartsWith("**")) ? from + 1 : next;
    }

    [GeneratedRegex(@"\[([^\]]+)\]\([^)]+\)")]
    private static partial Regex Links();

    [GeneratedRegex(@"^\d+\. ")]
    private static partial Regex DigitItem();
}
