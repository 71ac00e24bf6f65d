// ApplyRecord.cs - what `--apply` changed, so `--revert` can put back the previous file and the previous live values.
using System.Text;

namespace LaneShim.Core.Doctor;

/// <summary>The state `--revert` restores: whether a previous file existed (and was backed up) and each key's previous live value.</summary>
/// <param name="HadFile">True when a 90-laneshim.conf existed before the first apply; its copy is the backup.</param>
/// <param name="Previous">The live value of each key before LaneShim first changed it, in the order recorded.</param>
public sealed record ApplyRecord(bool HadFile, IReadOnlyList<SysctlChange> Previous)
{
    private const string Header = "# laneshim doctor --apply: what --revert restores. Do not edit.";

    /// <summary>This record with <paramref name="key"/>'s previous value added, unless it is already recorded (the first value wins).</summary>
    public ApplyRecord WithPrevious(string key, string value) =>
        Previous.Any(p => p.Key == key) ? this : this with { Previous = [.. Previous, new SysctlChange(key, value)] };

    /// <summary>The file text: a header, "file = backup|absent", then "value KEY = VALUE" lines.</summary>
    public string Format()
    {
        var text = new StringBuilder().Append(Header).Append('\n');
        text.Append("file = ").Append(HadFile ? "backup" : "absent").Append('\n');
        foreach (SysctlChange p in Previous)
        {
            text.Append("value ").Append(p.Key).Append(" = ").Append(p.Value).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Parses <see cref="Format"/>'s output.</summary>
    /// <exception cref="FormatException">A line is not one the format has, with its line number.</exception>
    public static ApplyRecord Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        bool? hadFile = null;
        var previous = new List<SysctlChange>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("file = ", StringComparison.Ordinal))
            {
                hadFile = line["file = ".Length..] switch
                {
                    "backup" => true,
                    "absent" => false,
                    _ => throw new FormatException($"{fileName}:{i + 1}: expected 'file = backup' or 'file = absent'"),
                };
                continue;
            }

            int eq = line.IndexOf(" = ", StringComparison.Ordinal);
            if (!line.StartsWith("value ", StringComparison.Ordinal) || eq < 0)
            {
                throw new FormatException($"{fileName}:{i + 1}: expected 'value KEY = VALUE'");
            }

            previous.Add(new SysctlChange(line["value ".Length..eq].Trim(), HostSnapshot.Normalize(line[(eq + 3)..])));
        }

        return new ApplyRecord(hadFile ?? throw new FormatException($"{fileName}: no 'file = ' line"), previous);
    }
}
