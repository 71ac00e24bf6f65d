// BufferMode.cs - how the agent should size one socket buffer.
namespace LaneShim.Core;

/// <summary>How one socket buffer gets its size.</summary>
public enum BufferMode
{
    /// <summary>Leave kernel autotuning on: its ceiling covers the need. Nothing is passed to setsockopt.</summary>
    Autotune = 1,

    /// <summary>setsockopt SO_SNDBUF/SO_RCVBUF (disables autotuning for that direction).</summary>
    Set = 2,

    /// <summary>SO_SNDBUFFORCE/SO_RCVBUFFORCE: above net.core.*mem_max; needs CAP_NET_ADMIN.</summary>
    Force = 3,
}
