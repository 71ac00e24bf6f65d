// TemporaryPostgresOptions.cs - how a TemporaryPostgres runs: where its directory goes, whether it listens on TCP, fsync, a database of its own.
namespace LaneShim.Lab.Bench;

/// <summary>The choices between the benchmark's server (realistic: TCP, fsync) and a test's (fast: Unix socket only, no fsync).</summary>
internal sealed record TemporaryPostgresOptions
{
    /// <summary>The benchmark's: TCP on 127.0.0.1 and fsync on, as a broker's database would run; the postgres database.</summary>
    public static TemporaryPostgresOptions Benchmark { get; } = new() { DirectoryPrefix = "laneshim-bench-pg-", ListenOnLoopback = true, Fsync = true };

    /// <summary>A test's: the Unix socket only, fsync off, and a database named laneshim made for it.</summary>
    public static TemporaryPostgresOptions Test { get; } = new() { DirectoryPrefix = "laneshim-pg-", ListenOnLoopback = false, Fsync = false, Database = "laneshim" };

    /// <summary>The start of the temp directory's name; the process id and a random suffix follow.</summary>
    public required string DirectoryPrefix { get; init; }

    /// <summary>Listen on 127.0.0.1 too (for <see cref="TemporaryPostgres.Uri"/>); otherwise only on the Unix socket.</summary>
    public bool ListenOnLoopback { get; init; }

    /// <summary>fsync on (the cost a real server pays for each commit) or off (faster, for tests).</summary>
    public bool Fsync { get; init; }

    /// <summary>A database to create for the caller, or null to use postgres.</summary>
    public string? Database { get; init; }
}
