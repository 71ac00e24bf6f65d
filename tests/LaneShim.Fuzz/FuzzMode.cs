// FuzzMode.cs - which reply path a fuzzing run drives.
namespace LaneShim.Fuzz;

/// <summary>The reply path a <see cref="ReplyFuzzer"/> run feeds its inputs through.</summary>
public enum FuzzMode
{
    /// <summary>
    /// The agent's path: the fake broker's bytes on a socketpair, read by the hand-written HTTP/2 client
    /// (frames, flow control, HPACK) and interpreted by <c>GrpcClient.Interpret</c>.
    /// </summary>
    Wire,

    /// <summary>The HttpClient path the CLI and tools still use: decoded responses through <c>GrpcClient.ReadResponseAsync</c>.</summary>
    HttpClient,
}
