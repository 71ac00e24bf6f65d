// EnforcementException.cs - a router could not be programmed; the message names it and says why.
namespace LaneShim.Broker.Enforcement;

/// <summary>Programming the network failed.</summary>
public sealed class EnforcementException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The kernel's errno when it refused a change; 0 otherwise.</summary>
    public int Errno { get; init; }
}
