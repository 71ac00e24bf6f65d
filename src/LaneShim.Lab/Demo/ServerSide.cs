// ServerSide.cs - what a laneshim run's server end had: wrapped or not, and what the kernel and the broker say of its data socket.
namespace LaneShim.Lab.Demo;

/// <summary>
/// The server's data socket during a run (the one that moved most), as the kernel reported it, and the grant the
/// broker made for that end of the connection (null when the server end got no lane).
/// </summary>
/// <param name="Wrapped">The server ran under `laneshim run`.</param>
/// <param name="Socket">The kernel's view of the data socket; null when none was seen.</param>
/// <param name="Granted">What the broker granted the server's end: its lease holder's grant, or its listening socket's.</param>
internal sealed record ServerSide(bool Wrapped, ServerSocket? Socket, ServerGrant? Granted)
{
    /// <summary>
    /// The send buffer the kernel should hold for the grant: twice the granted bytes (Linux doubles SO_SNDBUF for its
    /// bookkeeping) when the grant sets it; null when the grant leaves it to autotuning.
    /// </summary>
    public long? ExpectedSendBuffer => Granted?.Grant is { SndbufBytes: > 0, SndbufMode: Protocol.V1.BufferMode.Set or Protocol.V1.BufferMode.Force } g ? 2 * g.SndbufBytes : null;

    /// <summary>"bbr, sndbuf 10.0 MB, pacing 1000.0 Mbit/s" for the table.</summary>
    public string Describe() => Socket is null
        ? (Wrapped ? "wrapped; no data socket seen" : "not wrapped")
        : $"{Socket.Congestion}, sndbuf {DemoFormat.Bytes(Socket.SendBuffer)}, pacing {(Socket.MaxPacingBps is long p ? DemoFormat.Mbps(p / 1e6) : "none")}";
}
