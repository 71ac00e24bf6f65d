// PrefixWriter.cs - a TextWriter that puts a prefix before every line it passes on (the lab builder's progress under "demo: ").
using System.Text;

namespace LaneShim.Lab.Demo;

/// <summary>Writes whole lines to <paramref name="inner"/>, each starting with <paramref name="prefix"/>.</summary>
internal sealed class PrefixWriter(TextWriter inner, string prefix) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override void WriteLine(string? value) => inner.WriteLine(prefix + value);

    public override void Write(char value) => inner.Write(value);
}
