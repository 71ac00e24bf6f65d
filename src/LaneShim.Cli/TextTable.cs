// TextTable.cs - the one table writer: rows of cells as aligned columns for a terminal, or as a Markdown table.
using System.Text;

namespace LaneShim.Cli;

/// <summary>Rows of cells printed with each column as wide as its widest cell (two blanks between columns), or as Markdown.</summary>
internal sealed class TextTable(params string[] header)
{
    private readonly List<string[]> _rows = header.Length > 0 ? [header] : [];

    public void Add(params string[] cells) => _rows.Add(cells);

    /// <summary>The header (when there is one) and the rows, aligned; the last cell of a row is not padded and no line ends in blanks.</summary>
    public IReadOnlyList<string> Lines()
    {
        int columns = _rows.Count == 0 ? 0 : _rows.Max(r => r.Length);
        var widths = new int[columns];
        foreach (string[] row in _rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        var lines = new List<string>(_rows.Count);
        foreach (string[] row in _rows)
        {
            var line = new StringBuilder();
            for (int i = 0; i < row.Length; i++)
            {
                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }
            lines.Add(line.ToString().TrimEnd());
        }
        return lines;
    }

    public void WriteTo(TextWriter output)
    {
        foreach (string line in Lines())
        {
            output.WriteLine(line);
        }
    }

    /// <summary>
    /// The table in Markdown, every line ending in \n: the header, the alignment row (one letter per column in
    /// <paramref name="alignment"/>: l left, r right), then the rows with any | in a cell escaped.
    /// </summary>
    public string Markdown(string alignment)
    {
        var md = new StringBuilder();
        for (int r = 0; r < _rows.Count; r++)
        {
            md.Append("| ").Append(string.Join(" | ", _rows[r].Select(c => c.Replace("|", "\\|", StringComparison.Ordinal)))).Append(" |\n");
            if (r == 0)
            {
                md.Append("| ").Append(string.Join(" | ", alignment.Select(a => a == 'r' ? "---:" : "---"))).Append(" |\n");
            }
        }
        return md.ToString();
    }
}
