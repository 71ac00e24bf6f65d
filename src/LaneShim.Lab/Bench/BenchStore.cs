// BenchStore.cs - the broker's lease store a benchmark runs against: memory, a SQLite file, or a temporary PostgreSQL server.
namespace LaneShim.Lab.Bench;

/// <summary>
/// A store by name and the broker flags that select it. The broker selects its store with <c>--state</c>
/// (memory | FILE | postgres://…), the interface of the "store" helper's branch; a broker without that flag has only
/// its in-memory table, and then <see cref="Unavailable"/> says so for SQLite and PostgreSQL.
/// </summary>
internal sealed class BenchStore : IDisposable
{
    private readonly TemporaryPostgres? _postgres;

    private BenchStore(string name, string[] flags, string? unavailable, TemporaryPostgres? postgres = null)
    {
        Name = name;
        BrokerFlags = flags;
        Unavailable = unavailable;
        _postgres = postgres;
    }

    /// <summary>memory, sqlite or postgresql.</summary>
    public string Name { get; }

    public string[] BrokerFlags { get; }

    /// <summary>Why this store cannot be measured here, or null.</summary>
    public string? Unavailable { get; }

    /// <summary>Whether `laneshim broker` has the --state flag (the lease store choice).</summary>
    public static bool BrokerHasStateFlag(BenchContext context)
    {
        try
        {
            return BenchProcess.Run([context.Laneshim, "broker", "--help"], TimeSpan.FromSeconds(30)).Contains("--state", StringComparison.Ordinal);
        }
        catch (BenchException)
        {
            return false;
        }
    }

    /// <summary>The in-memory lease table (the only store of a broker without --state).</summary>
    public static BenchStore Memory(bool hasStateFlag) => new("memory", hasStateFlag ? ["--state", "memory"] : [], null);

    /// <summary>A fresh SQLite file in the work directory.</summary>
    public static BenchStore Sqlite(BenchContext context, bool hasStateFlag, string name) => hasStateFlag
        ? new("sqlite", ["--state", Path.Combine(context.WorkDirectory, name + ".db")], null)
        : new("sqlite", [], "this broker has no --state flag (lease store choice); lead: wire the store helper's --state, then this runs");

    /// <summary>A temporary PostgreSQL server of our own (initdb + pg_ctl in a temp directory), when PostgreSQL is installed.</summary>
    public static BenchStore Postgres(BenchContext context, bool hasStateFlag)
    {
        if (!hasStateFlag)
        {
            return new("postgresql", [], "this broker has no --state flag (lease store choice); lead: wire the store helper's --state, then this runs");
        }
        if (TemporaryPostgres.FindBinaries() is null)
        {
            return new("postgresql", [], "PostgreSQL is not installed (initdb, pg_ctl not found)");
        }
        var pg = TemporaryPostgres.Start(TemporaryPostgresOptions.Benchmark);
        context.Log.WriteLine($"bench: temporary PostgreSQL on 127.0.0.1:{pg.Port} ({pg.SocketDirectory})");
        return new("postgresql", ["--state", pg.Uri], null, pg);
    }

    public void Dispose() => _postgres?.Dispose();
}
