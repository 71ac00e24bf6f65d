// PolicyToken.cs - one whitespace-separated word of a policy line, with its quotes removed.
namespace LaneShim.Core;

/// <summary>A word of a policy line.</summary>
/// <param name="Text">The text, quotes and escapes resolved.</param>
/// <param name="Quoted">True when any part was quoted (so "->" inside it is plain text).</param>
internal readonly record struct PolicyToken(string Text, bool Quoted);
