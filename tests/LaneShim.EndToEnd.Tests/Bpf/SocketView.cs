// SocketView.cs - what the kernel said of a test client's socket: congestion control, send buffer, pacing, TOS, port.
namespace LaneShim.EndToEnd.Tests.Bpf;

internal sealed record SocketView(string Congestion, long Sndbuf, ulong Pacing, int Tos, int LocalPort)
{
    /// <summary>SO_MAX_PACING_RATE when nothing set it.</summary>
    public const ulong Unpaced = ulong.MaxValue;
}
