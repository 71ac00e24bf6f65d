// TextTable.cs - left-aligned columns for the lab's human output.
using System.Text;

namespace LaneShim.Lab.Lab;

/// <summary>Rows of cells printed with each column as wide as its widest cell.</summary>
internal sealed class TextTable(params string[] header)
{
    private readonly List<string[]> _rows = [header];

    public void Add(params string[] cells) => _rows.Add(cells);

    public void WriteTo(TextWriter output)
    {
        int columns = _rows.Max(r => r.Length);
        var widths = new int[columns];
        foreach (string[] row in _rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        foreach (string[] row in _rows)
        {
            var line = new StringBuilder();
            for (int i = 0; i < row.Length; i++)
            {
                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }
            output.WriteLine(line.ToString().TrimEnd());
        }
    }
}
