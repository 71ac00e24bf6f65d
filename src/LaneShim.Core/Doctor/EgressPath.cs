// EgressPath.cs - where traffic to one destination leaves the host, and what that interface is like.
namespace LaneShim.Core.Doctor;

/// <summary>The route to a destination (or the default route) and the facts of its outgoing interface.</summary>
public sealed record EgressPath
{
    /// <summary>The name for the default route's path.</summary>
    public const string DefaultRoute = "default";

    /// <summary>The destination as given (an address), or <see cref="DefaultRoute"/>.</summary>
    public required string Destination { get; init; }

    /// <summary>The outgoing interface; null when there is no route.</summary>
    public string? Device { get; init; }

    /// <summary>The next hop, when the destination is not on a local link.</summary>
    public string? Gateway { get; init; }

    /// <summary>The source address the kernel would pick.</summary>
    public string? Source { get; init; }

    /// <summary>The interface MTU (sysfs).</summary>
    public int? Mtu { get; init; }

    /// <summary>An MTU the route itself carries (a route metric), which wins over the interface's.</summary>
    public int? RouteMtu { get; init; }

    /// <summary>The interface's txqueuelen (sysfs tx_queue_len).</summary>
    public long? TxQueueLen { get; init; }

    /// <summary>Link speed in Mbit/s (sysfs speed); null when the device does not report one.</summary>
    public long? SpeedMbps { get; init; }

    /// <summary>The root qdisc's kind (fq, mq, noqueue, pfifo_fast, ...); null when unknown.</summary>
    public string? RootQdisc { get; init; }

    /// <summary>The kinds of the root qdisc's direct children (the per-queue qdiscs under mq).</summary>
    public IReadOnlyList<string> ChildQdiscs { get; init; } = [];

    /// <summary>Why there is no route, in the kernel's words; null when there is one.</summary>
    public string? Error { get; init; }

    /// <summary>The MTU packets to this destination use: the route's if it has one, else the interface's.</summary>
    public int? EffectiveMtu => RouteMtu ?? Mtu;

    /// <summary>"the default route" or "10.0.0.1".</summary>
    public string DescribeDestination() => Destination == DefaultRoute ? "the default route" : Destination;
}
