// FlowDirection.cs - which side of a TCP connection the program is on.
namespace LaneShim.Core;

/// <summary>How the program came to hold the socket.</summary>
public enum FlowDirection
{
    /// <summary>The program called connect().</summary>
    Outbound,

    /// <summary>The program accepted the flow.</summary>
    Inbound,

    /// <summary>A listening socket, before listen(); it has no remote address.</summary>
    Listen,
}
