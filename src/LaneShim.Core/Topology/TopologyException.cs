// TopologyException.cs - a topology file that cannot be used, with the place of the problem.
namespace LaneShim.Core.Topology;

/// <summary>Message reads "file:line: what is wrong".</summary>
public sealed class TopologyException(string fileName, int line, string problem)
    : Exception(line > 0 ? $"{fileName}:{line}: {problem}" : $"{fileName}: {problem}")
{
    /// <summary>The topology file as it was named to the parser (or the caller's label for text without a file).</summary>
    public string FileName { get; } = fileName;

    /// <summary>1-based line of the problem; 0 when it concerns the whole file.</summary>
    public int Line { get; } = line;

    /// <summary>What is wrong, without the file:line prefix the message carries.</summary>
    public string Problem { get; } = problem;
}
