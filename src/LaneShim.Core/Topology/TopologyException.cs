// TopologyException.cs - a topology file that cannot be used, with the place of the problem.
namespace LaneShim.Core.Topology;

/// <summary>Message reads "file:line: what is wrong".</summary>
public sealed class TopologyException(string fileName, int line, string problem)
    : Exception(line > 0 ? $"{fileName}:{line}: {problem}" : $"{fileName}: {problem}")
{
    public string FileName { get; } = fileName;

    public int Line { get; } = line;

    public string Problem { get; } = problem;
}
