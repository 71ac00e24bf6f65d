// LabEmulator.cs - the laneshim-linkemu process behind an emulated link and the files it keeps in the state directory.
namespace LaneShim.Lab.Lab;

/// <summary>One running link emulator: its pid and where its pidfile, stats and log are.</summary>
internal sealed record LabEmulator
{
    /// <summary>Process id at `lab up` (the pidfile holds the same while it runs).</summary>
    public required int Pid { get; init; }

    /// <summary>The pidfile the emulator writes and removes on a clean exit.</summary>
    public required string PidFile { get; init; }

    /// <summary>JSON counters per direction (ab: first end to second), rewritten every <see cref="StatsIntervalMs"/>.</summary>
    public required string StatsFile { get; init; }

    /// <summary>How often the stats file is rewritten, ms.</summary>
    public required int StatsIntervalMs { get; init; }

    /// <summary>The emulator's stdout and stderr.</summary>
    public required string LogFile { get; init; }

    /// <summary>The loss generator's seed.</summary>
    public required ulong Seed { get; init; }

    /// <summary>The full command line, starting with `ip netns exec` (the emulator lives in the first end's namespace).</summary>
    public required IReadOnlyList<string> Command { get; init; }
}
