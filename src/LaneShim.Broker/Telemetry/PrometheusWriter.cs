// PrometheusWriter.cs - writes metric families in the Prometheus text exposition format, version 0.0.4.
using System.Globalization;
using System.Text;

namespace LaneShim.Broker.Telemetry;

/// <summary>
/// One family at a time: <see cref="Family"/> writes its HELP and TYPE lines, then <see cref="Sample"/> its lines.
/// Label values escape backslash, double quote and newline; HELP text escapes backslash and newline (as the format says).
/// </summary>
public sealed class PrometheusWriter
{
    /// <summary>The Content-Type of this format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();

    /// <summary>Starts a family: "counter", "gauge" or "histogram".</summary>
    public PrometheusWriter Family(string name, string type, string help)
    {
        _text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    /// <summary>One sample line; labels in the order given.</summary>
    public PrometheusWriter Sample(string name, double value, params (string Name, string Value)[] labels)
    {
        _text.Append(name);
        if (labels.Length > 0)
        {
            _text.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                {
                    _text.Append(',');
                }
                _text.Append(labels[i].Name).Append("=\"").Append(EscapeLabel(labels[i].Value)).Append('"');
            }
            _text.Append('}');
        }
        _text.Append(' ').Append(FormatValue(value)).Append('\n');
        return this;
    }

    /// <summary>A label value as it appears between the quotes.</summary>
    public static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>A value: integers without a fraction, +Inf/-Inf/NaN as the format spells them.</summary>
    public static string FormatValue(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The text so far.</summary>
    public override string ToString() => _text.ToString();
}
