// LeaseStores.cs - opens the lease store a --state value names: memory, a SQLite file, or PostgreSQL.
namespace LaneShim.Broker.Storage;

/// <summary>Parses state specifications and opens the matching <see cref="ILeaseStore"/>.</summary>
public static class LeaseStores
{
    /// <summary>Where the system broker keeps its state unless told otherwise.</summary>
    public const string DefaultSqlitePath = "/var/lib/laneshim/broker.db";

    /// <summary>True when <paramref name="state"/> names PostgreSQL (a postgres:// URI or a Host=... connection string).</summary>
    public static bool IsPostgres(string state) =>
        state.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || state.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || state.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Opens the store: "memory"; a file path (SQLite, created when missing); a postgres:// URI or a Npgsql connection
    /// string (shared by several brokers). Throws <see cref="ArgumentException"/> or <see cref="IOException"/> with
    /// a message that says what to fix.
    /// </summary>
    public static async Task<ILeaseStore> OpenAsync(string state, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(state);
        if (string.Equals(state, "memory", StringComparison.OrdinalIgnoreCase))
        {
            return new MemoryLeaseStore();
        }
        if (IsPostgres(state))
        {
            return await PostgresLeaseStore.OpenAsync(PostgresLeaseStore.ToConnectionString(state), cancellationToken).ConfigureAwait(false);
        }
        try
        {
            return SqliteLeaseStore.Open(state);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or UnauthorizedAccessException or IOException)
        {
            throw new StateStoreException($"cannot open the state file {state}: {e.Message} (give a writable path with --state, or --state memory)", e);
        }
    }
}
