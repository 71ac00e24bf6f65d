// PrometheusParser.cs - a strict reader of the Prometheus text exposition format 0.0.4, to check what /metrics serves.
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LaneShim.Testing;

/// <summary>
/// Parses exposition text and throws <see cref="FormatException"/> (with the line number) on anything the format does
/// not allow: a sample before its family's TYPE, a TYPE given twice, unknown types, bad metric or label names, bad
/// escapes, unparsable values, histogram buckets that are not cumulative or lack +Inf, or _count differing from +Inf.
/// </summary>
public static partial class PrometheusParser
{
    /// <summary>One sample: the metric name, its labels and value.</summary>
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>All samples, with each family's type by name.</summary>
    public sealed record Exposition(IReadOnlyList<Sample> Samples, IReadOnlyDictionary<string, string> Types)
    {
        /// <summary>The sum of the samples called <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
        public double Sum(string name, params (string Name, string Value)[] labels) =>
            Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out string? v) && v == l.Value)).Sum(s => s.Value);

        /// <summary>True when a sample called <paramref name="name"/> exists.</summary>
        public bool Has(string name) => Samples.Any(s => s.Name == name);
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    /// <summary>Parses <paramref name="text"/> strictly.</summary>
    public static Exposition Parse(string text)
    {
        var samples = new List<Sample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var helps = new HashSet<string>(StringComparer.Ordinal);
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("the exposition must end with a newline");
        }
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length - 1; i++)
        {
            string line = lines[i];
            int no = i + 1;
            FormatException Bad(string why) => new($"line {no}: {why}: '{line}'");
            if (line.Length == 0)
            {
                continue;
            }
            if (line.StartsWith('#'))
            {
                string[] parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[1] == "HELP")
                {
                    if (!MetricName().IsMatch(parts[2]) || !helps.Add(parts[2]))
                    {
                        throw Bad("bad or repeated HELP");
                    }
                    if (parts.Length == 4)
                    {
                        CheckHelpEscapes(parts[3], Bad);
                    }
                }
                else if (parts.Length >= 3 && parts[1] == "TYPE")
                {
                    if (parts.Length != 4 || !MetricName().IsMatch(parts[2]) || parts[3] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                    {
                        throw Bad("bad TYPE line");
                    }
                    if (types.ContainsKey(parts[2]))
                    {
                        throw Bad("TYPE given twice");
                    }
                    if (samples.Any(s => Family(s.Name, types) == parts[2]))
                    {
                        throw Bad("TYPE after the family's samples");
                    }
                    types[parts[2]] = parts[3];
                }
                continue;
            }
            samples.Add(ParseSample(line, Bad));
            Sample last = samples[^1];
            string family = Family(last.Name, types);
            if (!types.ContainsKey(family))
            {
                throw Bad("sample without a TYPE for its family");
            }
            if (types[family] == "counter" && (last.Value < 0 || double.IsNaN(last.Value)))
            {
                throw Bad("a counter must be a non-negative number");
            }
        }
        CheckHistograms(samples, types);
        return new Exposition(samples, types);
    }

    private static string Family(string name, Dictionary<string, string> types)
    {
        foreach (string suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && types.TryGetValue(name[..^suffix.Length], out string? t) && t is "histogram" or "summary")
            {
                return name[..^suffix.Length];
            }
        }
        return name;
    }

    private static void CheckHelpEscapes(string help, Func<string, FormatException> bad)
    {
        for (int i = 0; i < help.Length; i++)
        {
            if (help[i] == '\\' && (i + 1 >= help.Length || help[i + 1] is not ('\\' or 'n')))
            {
                throw bad("bad escape in HELP");
            }
            if (help[i] == '\\')
            {
                i++;
            }
        }
    }

    private static Sample ParseSample(string line, Func<string, FormatException> bad)
    {
        int i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }
        string name = line[..i];
        if (!MetricName().IsMatch(name))
        {
            throw bad("bad metric name");
        }
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }
                int eq = line.IndexOf('=', i);
                if (eq < 0)
                {
                    throw bad("label without '='");
                }
                string label = line[i..eq];
                if (!LabelName().IsMatch(label) || labels.ContainsKey(label))
                {
                    throw bad($"bad or repeated label name '{label}'");
                }
                if (eq + 1 >= line.Length || line[eq + 1] != '"')
                {
                    throw bad("label value not quoted");
                }
                var value = new StringBuilder();
                int j = eq + 2;
                for (; ; j++)
                {
                    if (j >= line.Length)
                    {
                        throw bad("unterminated label value");
                    }
                    char c = line[j];
                    if (c == '"')
                    {
                        break;
                    }
                    if (c == '\\')
                    {
                        j++;
                        value.Append(j < line.Length ? line[j] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw bad("bad escape in label value"),
                        } : throw bad("dangling backslash"));
                        continue;
                    }
                    value.Append(c);
                }
                labels[label] = value.ToString();
                i = j + 1;
                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
                else if (i >= line.Length || line[i] != '}')
                {
                    throw bad("expected ',' or '}' after a label");
                }
            }
        }
        if (i >= line.Length || line[i] != ' ')
        {
            throw bad("expected one space before the value");
        }
        string[] rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2)
        {
            throw bad("expected a value and an optional timestamp");
        }
        double v = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.TryParse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw bad("unparsable value"),
        };
        if (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw bad("unparsable timestamp");
        }
        return new Sample(name, labels, v);
    }

    private static void CheckHistograms(List<Sample> samples, Dictionary<string, string> types)
    {
        foreach (string histogram in types.Where(t => t.Value == "histogram").Select(t => t.Key))
        {
            List<Sample> buckets = samples.Where(s => s.Name == histogram + "_bucket").ToList();
            if (buckets.Count == 0 || buckets.Any(b => !b.Labels.ContainsKey("le")))
            {
                throw new FormatException($"histogram {histogram} has no buckets, or a bucket without le");
            }
            double previousLe = double.NegativeInfinity, previousCount = 0;
            foreach (Sample b in buckets)
            {
                double le = b.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(b.Labels["le"], CultureInfo.InvariantCulture);
                if (le <= previousLe || b.Value < previousCount)
                {
                    throw new FormatException($"histogram {histogram}: buckets must rise in le and be cumulative (le={b.Labels["le"]})");
                }
                previousLe = le;
                previousCount = b.Value;
            }
            if (!double.IsPositiveInfinity(previousLe))
            {
                throw new FormatException($"histogram {histogram} lacks the le=\"+Inf\" bucket");
            }
            Sample? count = samples.FirstOrDefault(s => s.Name == histogram + "_count");
            if (count is null || count.Value != previousCount || !samples.Any(s => s.Name == histogram + "_sum"))
            {
                throw new FormatException($"histogram {histogram}: _count must equal the +Inf bucket, and _sum must be present");
            }
        }
    }
}
