// DemoSettings.cs - the validated parameters of `laneshim-lab demo`.
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>What the demo builds and how long it lets each run take.</summary>
internal sealed record DemoSettings
{
    /// <summary>The lab's parameters (name, paths); the demo's lab is its own and is torn down at the end.</summary>
    public required LabSettings Lab { get; init; }

    /// <summary>The broker's policy file (one lane class, bulk=yes).</summary>
    public required string PolicyFile { get; init; }

    /// <summary>Where results.json and throughput.png go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Only these movers (by name), or all when empty.</summary>
    public IReadOnlyList<string> Movers { get; init; } = [];

    /// <summary>How long iperf3 sends (-t).</summary>
    public TimeSpan IperfDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The time limit of a plain file transfer; its goodput is the bytes it moved by then.</summary>
    public TimeSpan PlainLimit { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The time limit of any other run.</summary>
    public TimeSpan RunLimit { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// deadline_ms of every wrapped command (`laneshim run --deadline-ms`); null: the shim's default (20 ms), as a site
    /// runs it. A flow that cannot wait for the agent's start gets its lane late (without the window scale).
    /// </summary>
    public int? DeadlineMs { get; init; }

    /// <summary>Where the test files and server configs go; null: /dev/shm (tmpfs) when it has room, else the temp directory.</summary>
    public string? WorkRoot { get; init; }
}
