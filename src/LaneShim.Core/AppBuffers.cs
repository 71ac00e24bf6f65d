// AppBuffers.cs - the buffer sizes the program itself asked for with setsockopt, if any.
namespace LaneShim.Core;

/// <summary>What the program passed to setsockopt SO_SNDBUF/SO_RCVBUF itself (null: it did not).</summary>
/// <param name="Sndbuf">The program's SO_SNDBUF value, as passed (not doubled).</param>
/// <param name="Rcvbuf">The program's SO_RCVBUF value, as passed (not doubled).</param>
public sealed record AppBuffers(long? Sndbuf, long? Rcvbuf)
{
    /// <summary>The program set neither buffer.</summary>
    public static AppBuffers None { get; } = new(null, null);
}
