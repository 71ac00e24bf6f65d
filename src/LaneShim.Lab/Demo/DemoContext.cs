// DemoContext.cs - what every mover needs during the runs: the lab, the broker, the work directories, the lane's rate and RTT.
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>The running demo: built once setup is done, read by the movers.</summary>
internal sealed class DemoContext
{
    public required DemoSettings Settings { get; init; }

    public required LabState Lab { get; init; }

    /// <summary>The demo's private directory (tmpfs when possible): data, destination, server configs and logs.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>Where the test files are; every server exports it.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Where clients write; emptied after every run.</summary>
    public required string DestinationDirectory { get; init; }

    /// <summary>The 1 GB test file.</summary>
    public required DemoFile LargeFile { get; init; }

    /// <summary>A 500 MB test file, for movers whose lane rate would make the large one take too long.</summary>
    public required DemoFile MediumFile { get; init; }

    /// <summary>The broker's Unix socket.</summary>
    public required string BrokerSocket { get; init; }

    /// <summary>This program (laneshim), for `laneshim run`.</summary>
    public required string Laneshim { get; init; }

    /// <summary>The RTT measured with ping over the bypass, ms.</summary>
    public required double RttMs { get; init; }

    /// <summary>The congestion control a plain socket gets in the lab's host namespaces (stock Linux: cubic).</summary>
    public required string LabDefaultCc { get; init; }

    public string Ip => LabTools.Ip;

    public string ServerAddress => Lab.ServerAddress;

    /// <summary>The lane's line rate: the bypass's bottleneck, Mbit/s.</summary>
    public double LineRateMbps => Lab.LineRateBps / 1e6;

    /// <summary>What an expert sizes buffers to: line rate x measured RTT, bytes.</summary>
    public long BdpBytes => (long)Math.Round(Lab.LineRateBps * RttMs / 1000.0 / 8.0);

    /// <summary>A directory of the mover's own (configs, logs), created on first use.</summary>
    public string MoverDirectory(string mover) => Directory.CreateDirectory(Path.Combine(WorkDirectory, mover)).FullName;

    /// <summary>The client command: in the client namespace, under `laneshim run` (with --bpf for <paramref name="kernelPath"/>) in laneshim mode.</summary>
    public IReadOnlyList<string> ClientCommand(DemoMode mode, IReadOnlyList<string> argv, bool kernelPath = false) =>
        [Ip, "netns", "exec", Lab.Namespaces.Client, .. mode == DemoMode.Laneshim ? Wrap(Settings.DeadlineMs, kernelPath) : [], .. argv];

    /// <summary>
    /// A server command in the server namespace, under `laneshim run` (with --bpf for <paramref name="kernelPath"/>) when
    /// <paramref name="wrapped"/>, its shim logging (info) to <paramref name="shimLog"/> when given.
    /// </summary>
    public IReadOnlyList<string> ServerCommand(bool wrapped, IReadOnlyList<string> argv, string? shimLog = null, bool kernelPath = false) =>
        [Ip, "netns", "exec", Lab.Namespaces.Server,
            .. shimLog is null ? [] : new[] { "/usr/bin/env", "LANESHIM_LOG=info", $"LANESHIM_LOG_FILE={shimLog}" },
            .. wrapped ? Wrap(Settings.DeadlineMs, kernelPath) : [], .. argv];

    private string[] Wrap(int? deadlineMs, bool kernelPath) =>
        [Laneshim, "run", "--broker", $"unix:{BrokerSocket}", .. kernelPath ? ["--bpf"] : Array.Empty<string>(),
            .. deadlineMs is int ms ? ["--deadline-ms", DemoFormat.Invariant(ms)] : Array.Empty<string>(), "--"];
}
