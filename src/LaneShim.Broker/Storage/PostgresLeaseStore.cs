// PostgresLeaseStore.cs - leases in PostgreSQL, shared by several brokers; admission is one transaction per grant.
using LaneShim.Broker.Leases;
using Npgsql;
using NpgsqlTypes;

namespace LaneShim.Broker.Storage;

/// <summary>
/// The scale-out store. A grant locks the rows of its links in key order (<c>SELECT ... ORDER BY key FOR UPDATE</c>),
/// sums the rates of the live leases on them, and inserts the lease only if every link keeps within its capacity,
/// all in one transaction: grants on a shared link serialize on its row, whichever broker they reach, and grants on
/// disjoint links do not wait for each other. Expired rows stop counting at once (the sum looks at expiry), so a
/// broker that died holding leases blocks nothing past their TTL.
/// </summary>
public sealed class PostgresLeaseStore : ILeaseStore
{
    private const string DeadlockDetected = "40P01", SerializationFailure = "40001";
    private readonly NpgsqlDataSource _source;

    private PostgresLeaseStore(NpgsqlDataSource source, string description)
    {
        _source = source;
        Description = description;
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public bool IsShared => true;

    /// <summary>A Npgsql connection string from a postgres:// URI (user, password, host, port, database, ?host=/socket/dir); other text is taken as one already.</summary>
    public static string ToConnectionString(string state)
    {
        if (!state.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !state.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return state;
        }
        var uri = new Uri(state);
        var builder = new NpgsqlConnectionStringBuilder();
        if (uri.Host.Length > 0)
        {
            builder.Host = Uri.UnescapeDataString(uri.Host);
        }
        if (uri.Port > 0)
        {
            builder.Port = uri.Port;
        }
        if (uri.UserInfo.Length > 0)
        {
            string[] user = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(user[0]);
            if (user.Length > 1)
            {
                builder.Password = Uri.UnescapeDataString(user[1]);
            }
        }
        string database = uri.AbsolutePath.Trim('/');
        if (database.Length > 0)
        {
            builder.Database = Uri.UnescapeDataString(database);
        }
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            builder[Uri.UnescapeDataString(kv[0])] = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
        }
        return builder.ConnectionString;
    }

    /// <summary>Connects and creates the schema when missing (under an advisory lock, so brokers starting together do not collide).</summary>
    public static async Task<PostgresLeaseStore> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        string description = $"postgresql {builder.Host}:{builder.Port}/{builder.Database}";
        NpgsqlDataSource source = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            await using NpgsqlConnection connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var schema = new NpgsqlCommand("""
                SELECT pg_advisory_xact_lock(7401);
                CREATE TABLE IF NOT EXISTS laneshim_links(
                    key text PRIMARY KEY,
                    name text NOT NULL,
                    capacity_bps bigint NOT NULL);
                CREATE TABLE IF NOT EXISTS laneshim_leases(
                    id text PRIMARY KEY,
                    expires_ms bigint NOT NULL,
                    ttl_ms bigint NOT NULL,
                    rate_bps bigint NOT NULL,
                    links text NOT NULL,
                    body bytea NOT NULL);
                CREATE INDEX IF NOT EXISTS laneshim_leases_by_expiry ON laneshim_leases(expires_ms);
                CREATE TABLE IF NOT EXISTS laneshim_lease_links(
                    lease_id text NOT NULL REFERENCES laneshim_leases(id) ON DELETE CASCADE,
                    link_key text NOT NULL REFERENCES laneshim_links(key),
                    PRIMARY KEY(link_key, lease_id));
                CREATE TABLE IF NOT EXISTS laneshim_topology_versions(
                    version bigint NOT NULL,
                    source text NOT NULL,
                    loaded_ms bigint NOT NULL,
                    PRIMARY KEY(version, source));
                """, connection, transaction))
            {
                await schema.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or ArgumentException)
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw new StateStoreException($"cannot use PostgreSQL state at {description}: {e.Message}", e);
        }
        return new PostgresLeaseStore(source, description);
    }

    /// <inheritdoc/>
    public async Task<AdmissionRefusal?> AddAsync(LeaseEntry entry, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await TryAddAsync(entry, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (attempt < 5 && e.SqlState is DeadlockDetected or SerializationFailure)
            {
                // Another broker's transaction won; the next attempt sees its result.
            }
        }
    }

    private async Task<AdmissionRefusal?> TryAddAsync(LeaseEntry entry, CancellationToken cancellationToken)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long rate = checked((long)entry.Grant.RateBps);
        LinkDemand[] links = entry.Links.DistinctBy(l => l.Key).OrderBy(l => l.Key, StringComparer.Ordinal).ToArray();
        string[] keys = links.Select(l => l.Key).ToArray();
        await using NpgsqlConnection connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (links.Length > 0)
        {
            await using (var ensure = new NpgsqlCommand(
                "INSERT INTO laneshim_links(key, name, capacity_bps) SELECT * FROM unnest(@keys, @names, @caps) ON CONFLICT (key) DO NOTHING",
                connection, transaction))
            {
                ensure.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = keys });
                ensure.Parameters.Add(new NpgsqlParameter("names", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = links.Select(l => l.Name).ToArray() });
                ensure.Parameters.Add(new NpgsqlParameter("caps", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = links.Select(l => checked((long)l.CapacityBps)).ToArray() });
                await ensure.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // Lock in key order (no deadlock between grants sharing links), then count what live leases hold.
            await using (var lockRows = new NpgsqlCommand(
                "SELECT key FROM laneshim_links WHERE key = ANY(@keys) ORDER BY key FOR UPDATE", connection, transaction))
            {
                lockRows.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = keys });
                await using NpgsqlDataReader locked = await lockRows.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await locked.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                }
            }

            var used = new Dictionary<string, long>(StringComparer.Ordinal);
            await using (var sum = new NpgsqlCommand(
                "SELECT ll.link_key, SUM(l.rate_bps)::bigint FROM laneshim_lease_links ll JOIN laneshim_leases l ON l.id = ll.lease_id "
                + "WHERE ll.link_key = ANY(@keys) AND l.expires_ms > @now GROUP BY ll.link_key", connection, transaction))
            {
                sum.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = keys });
                sum.Parameters.AddWithValue("now", now);
                await using NpgsqlDataReader reader = await sum.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    used[reader.GetString(0)] = reader.GetInt64(1);
                }
            }

            AdmissionRefusal? tightest = null;
            foreach (LinkDemand link in links)
            {
                long capacity = checked((long)link.CapacityBps);
                long free = Math.Max(0, capacity - used.GetValueOrDefault(link.Key));
                if (free < rate && (tightest is null || (ulong)free < tightest.FreeBps))
                {
                    tightest = new AdmissionRefusal(link, (ulong)free);
                }
            }
            if (tightest is not null)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return tightest;
            }
        }

        await using (var insert = new NpgsqlCommand(
            "INSERT INTO laneshim_leases(id, expires_ms, ttl_ms, rate_bps, links, body) VALUES (@id, @expires, @ttl, @rate, @links, @body);"
            + "INSERT INTO laneshim_lease_links(lease_id, link_key) SELECT @id, unnest(@keys)", connection, transaction))
        {
            insert.Parameters.AddWithValue("id", entry.Id);
            insert.Parameters.AddWithValue("expires", entry.ExpiresAt.ToUnixTimeMilliseconds());
            insert.Parameters.AddWithValue("ttl", (long)entry.Ttl.TotalMilliseconds);
            insert.Parameters.AddWithValue("rate", rate);
            insert.Parameters.AddWithValue("links", LeaseCodec.Links(entry.Links));
            insert.Parameters.AddWithValue("body", LeaseCodec.Body(entry));
            insert.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = keys });
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <inheritdoc/>
    public async Task UpdateAsync(LeaseEntry entry, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand update = _source.CreateCommand("UPDATE laneshim_leases SET expires_ms = @expires, body = @body WHERE id = @id");
        update.Parameters.AddWithValue("id", entry.Id);
        update.Parameters.AddWithValue("expires", entry.ExpiresAt.ToUnixTimeMilliseconds());
        update.Parameters.AddWithValue("body", LeaseCodec.Body(entry));
        await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task RemoveAsync(string leaseId, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand delete = _source.CreateCommand("DELETE FROM laneshim_leases WHERE id = @id");
        delete.Parameters.AddWithValue("id", leaseId);
        await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<LeaseEntry>> LoadLiveAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        long nowMs = now.ToUnixTimeMilliseconds();
        await using (NpgsqlCommand drop = _source.CreateCommand("DELETE FROM laneshim_leases WHERE expires_ms <= @now"))
        {
            drop.Parameters.AddWithValue("now", nowMs);
            await drop.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        return await SelectAsync("SELECT body, expires_ms, ttl_ms, links FROM laneshim_leases WHERE expires_ms > @now", cancellationToken, ("now", nowMs)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<LeaseEntry?> FindAsync(string leaseId, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await SelectAsync("SELECT body, expires_ms, ttl_ms, links FROM laneshim_leases WHERE id = @id AND expires_ms > @now", cancellationToken,
            ("id", leaseId), ("now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false)).FirstOrDefault();

    /// <inheritdoc/>
    public async Task RecordTopologyAsync(long version, string source, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand insert = _source.CreateCommand(
            "INSERT INTO laneshim_topology_versions(version, source, loaded_ms) VALUES (@version, @source, @at) ON CONFLICT DO NOTHING");
        insert.Parameters.AddWithValue("version", version);
        insert.Parameters.AddWithValue("source", source);
        insert.Parameters.AddWithValue("at", at.ToUnixTimeMilliseconds());
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<TopologyVersion>> TopologyVersionsAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlCommand select = _source.CreateCommand("SELECT version, source, loaded_ms FROM laneshim_topology_versions ORDER BY loaded_ms, version");
        await using NpgsqlDataReader reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var versions = new List<TopologyVersion>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            versions.Add(new TopologyVersion(reader.GetInt64(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }
        return versions;
    }

    /// <summary>The rate live leases hold on each link, across all brokers (for tests and `status`).</summary>
    public async Task<IReadOnlyDictionary<string, ulong>> LinkUsageAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand sum = _source.CreateCommand(
            "SELECT ll.link_key, SUM(l.rate_bps)::bigint FROM laneshim_lease_links ll JOIN laneshim_leases l ON l.id = ll.lease_id WHERE l.expires_ms > @now GROUP BY ll.link_key");
        sum.Parameters.AddWithValue("now", now.ToUnixTimeMilliseconds());
        await using NpgsqlDataReader reader = await sum.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var usage = new Dictionary<string, ulong>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            usage[reader.GetString(0)] = (ulong)reader.GetInt64(1);
        }
        return usage;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private async Task<IReadOnlyList<LeaseEntry>> SelectAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using NpgsqlCommand select = _source.CreateCommand(sql);
        foreach ((string name, object value) in parameters)
        {
            select.Parameters.AddWithValue(name, value);
        }
        await using NpgsqlDataReader reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var entries = new List<LeaseEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(LeaseCodec.Decode((byte[])reader[0], reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3)));
        }
        return entries;
    }
}
