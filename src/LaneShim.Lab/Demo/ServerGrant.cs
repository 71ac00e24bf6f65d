// ServerGrant.cs - what the broker granted the server's end of a connection, and through which socket it got it.
namespace LaneShim.Lab.Demo;

/// <summary>
/// <paramref name="Grant"/> as the server's end holds it: <paramref name="By"/> "connection" when the accepted socket
/// asked and joined the connection's lease, "listener" when it carries the lane of the listening socket it was accepted
/// from (the kernel copies cc, send buffer and pacing into every accepted socket).
/// </summary>
internal sealed record ServerGrant(Protocol.V1.LaneGrant Grant, string By);
