// DemoException.cs - a step of the demo failed, with a message a person can act on.
namespace LaneShim.Lab.Demo;

/// <summary>A setup step or a run failed; the message says what and why.</summary>
internal sealed class DemoException(string message) : Exception(message);
