// BenchException.cs - a benchmark could not be measured; its message becomes the figure's note.
namespace LaneShim.Lab.Bench;

/// <summary>A benchmark's prerequisite or run failed; the message says what and how to fix it.</summary>
internal sealed class BenchException(string message) : Exception(message);
