// SqliteLeaseStore.cs - leases in a SQLite file (WAL), written by group commit: one transaction per batch of queued changes.
using System.Threading.Channels;
using LaneShim.Broker.Leases;
using Microsoft.Data.Sqlite;

namespace LaneShim.Broker.Storage;

/// <summary>
/// The embedded default store. One writer task owns the connection: every change is queued, and the writer takes
/// everything queued since its last commit into one transaction (group commit), so at 64 concurrent clients a commit
/// carries tens of grants and costs one WAL append, while a lone grant waits for nothing but its own commit.
/// WAL with synchronous=NORMAL survives kill -9 of the broker (a committed transaction is in the WAL file, which the
/// next open replays); only an OS crash or power loss can lose the last commits.
/// Rows are keyed by a sequence number, not by the (random) lease id: new rows append to the right edge of the B-tree
/// and expiries delete from the left, so a commit of fifty grants dirties a few pages instead of fifty (random keys
/// made every grant write its own 4 KiB page to the WAL: 22 us per row). The writer maps ids to sequence numbers in
/// memory; it is the only user of the connection, and the map holds exactly the rows of the table.
/// </summary>
public sealed class SqliteLeaseStore : ILeaseStore
{
    private const int MaxBatch = 8192;

    private readonly SqliteConnection _connection;
    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteCommand _insert, _update, _delete, _topology;
    private readonly Thread _writer;
    private readonly Dictionary<string, long> _rowOf;
    private long _lastRow;

    private SqliteLeaseStore(string path, SqliteConnection connection, Dictionary<string, long> rows, long lastRow)
    {
        Path = path;
        _connection = connection;
        _rowOf = rows;
        _lastRow = lastRow;
        _insert = Command("INSERT INTO lease_rows(seq, id, expires_ms, ttl_ms, links, body) VALUES ($seq, $id, $expires, $ttl, $links, $body)", "$seq", "$id", "$expires", "$ttl", "$links", "$body");
        // An update never inserts: a renewal or report queued behind a release must not bring the lease back.
        _update = Command("UPDATE lease_rows SET expires_ms = $expires, body = $body WHERE seq = $seq", "$seq", "$expires", "$body");
        _delete = Command("DELETE FROM lease_rows WHERE seq = $seq", "$seq");
        _topology = Command("INSERT OR IGNORE INTO topology_versions(version, source, loaded_ms) VALUES ($version, $source, $at)", "$version", "$source", "$at");
        // Its own thread, not the thread pool: commits block on the file, and under load a pool thread would reach
        // the queue only after the request handlers that are waiting for it.
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "laneshim-sqlite-writer" };
        _writer.Start();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public string Description => $"sqlite {Path}";

    /// <inheritdoc/>
    public bool IsShared => false;

    /// <summary>Opens (creating the file, its directory and the schema when missing) the store at <paramref name="path"/>.</summary>
    public static SqliteLeaseStore Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Pooling = false }.ToString());
        connection.Open();
        using (SqliteCommand setup = connection.CreateCommand())
        {
            setup.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                PRAGMA busy_timeout = 5000;
                PRAGMA wal_autocheckpoint = 10000;
                CREATE TABLE IF NOT EXISTS lease_rows(
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL,
                    expires_ms INTEGER NOT NULL,
                    ttl_ms INTEGER NOT NULL,
                    links TEXT NOT NULL,
                    body BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS topology_versions(
                    version INTEGER NOT NULL,
                    source TEXT NOT NULL,
                    loaded_ms INTEGER NOT NULL,
                    PRIMARY KEY(version, source));
                """;
            setup.ExecuteNonQuery();
        }
        MigrateIdKeyedTable(connection);
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        long lastRow = ReadRows(connection, rows);
        return new SqliteLeaseStore(full, connection, rows, lastRow);
    }

    // Fills `rows` with every row's id and sequence number; returns the highest sequence number (0 for none).
    private static long ReadRows(SqliteConnection connection, Dictionary<string, long> rows)
    {
        long lastRow = 0;
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT seq, id FROM lease_rows";
        using SqliteDataReader reader = select.ExecuteReader();
        while (reader.Read())
        {
            long row = reader.GetInt64(0);
            rows[reader.GetString(1)] = row;
            lastRow = Math.Max(lastRow, row);
        }

        return lastRow;
    }

    // Files written before rows were keyed by sequence have `leases(id TEXT PRIMARY KEY, ...) WITHOUT ROWID`: their
    // rows move to lease_rows, in one transaction, the first time a newer broker opens the file.
    private static void MigrateIdKeyedTable(SqliteConnection connection)
    {
        using SqliteCommand exists = connection.CreateCommand();
        exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'leases'";
        if ((long)exists.ExecuteScalar()! == 0)
        {
            return;
        }

        using SqliteTransaction transaction = connection.BeginTransaction();
        using SqliteCommand move = connection.CreateCommand();
        move.Transaction = transaction;
        move.CommandText = "INSERT INTO lease_rows(id, expires_ms, ttl_ms, links, body) SELECT id, expires_ms, ttl_ms, links, body FROM leases ORDER BY expires_ms; DROP TABLE leases;";
        move.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <inheritdoc/>
    public Task<AdmissionRefusal?> AddAsync(LeaseEntry entry, CancellationToken cancellationToken) =>
        Enqueue(new Write(WriteKind.Insert, entry, null)).ContinueWith(static _ => (AdmissionRefusal?)null, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    /// <inheritdoc/>
    public Task UpdateAsync(LeaseEntry entry, CancellationToken cancellationToken) => Enqueue(new Write(WriteKind.Update, entry, null));

    /// <inheritdoc/>
    public Task RemoveAsync(string leaseId, CancellationToken cancellationToken) => Enqueue(new Write(WriteKind.Delete, null, leaseId));

    /// <inheritdoc/>
    public Task RecordTopologyAsync(long version, string source, DateTimeOffset at, CancellationToken cancellationToken) =>
        Enqueue(new Write(WriteKind.Topology, null, source) { Version = version, At = at });

    /// <inheritdoc/>
    public async Task<IReadOnlyList<LeaseEntry>> LoadLiveAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        long nowMs = now.ToUnixTimeMilliseconds();
        // Through the writer's queue, so it is ordered with every write and never shares the connection.
        return await Run(connection =>
        {
            using (SqliteCommand drop = connection.CreateCommand())
            {
                drop.CommandText = "DELETE FROM lease_rows WHERE expires_ms <= $now RETURNING id";
                drop.Parameters.AddWithValue("$now", nowMs);
                using SqliteDataReader dropped = drop.ExecuteReader();
                while (dropped.Read())
                {
                    _rowOf.Remove(dropped.GetString(0));
                }
            }
            return (IReadOnlyList<LeaseEntry>)Select(connection, "SELECT body, expires_ms, ttl_ms, links FROM lease_rows WHERE expires_ms > $now", ("$now", nowMs));
        }).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<LeaseEntry?> FindAsync(string leaseId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await Run(connection => _rowOf.TryGetValue(leaseId, out long row)
            ? Select(connection, "SELECT body, expires_ms, ttl_ms, links FROM lease_rows WHERE seq = $seq AND expires_ms > $now",
                ("$seq", row), ("$now", now.ToUnixTimeMilliseconds())).FirstOrDefault()
            : null).ConfigureAwait(false);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<TopologyVersion>> TopologyVersionsAsync(CancellationToken cancellationToken) =>
        await Run(connection =>
        {
            using SqliteCommand select = connection.CreateCommand();
            select.CommandText = "SELECT version, source, loaded_ms FROM topology_versions ORDER BY loaded_ms, version";
            using SqliteDataReader reader = select.ExecuteReader();
            var versions = new List<TopologyVersion>();
            while (reader.Read())
            {
                versions.Add(new TopologyVersion(reader.GetInt64(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
            }
            return (IReadOnlyList<TopologyVersion>)versions;
        }).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.Run(_writer.Join).ConfigureAwait(false);
        _insert.Dispose();
        _update.Dispose();
        _delete.Dispose();
        _topology.Dispose();
        _connection.Dispose();
    }

    private static List<LeaseEntry> Select(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = sql;
        foreach ((string name, object value) in parameters)
        {
            select.Parameters.AddWithValue(name, value);
        }
        using SqliteDataReader reader = select.ExecuteReader();
        var entries = new List<LeaseEntry>();
        while (reader.Read())
        {
            entries.Add(LeaseCodec.Decode((byte[])reader[0], reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3)));
        }
        return entries;
    }

    private async Task<T> Run<T>(Func<SqliteConnection, T> read)
    {
        T result = default!;
        await Enqueue(new Write(WriteKind.Read, null, null) { Read = c => result = read(c) }).ConfigureAwait(false);
        return result;
    }

    private Task Enqueue(Write write)
    {
        if (!_queue.Writer.TryWrite(write))
        {
            return Task.FromException(new ObjectDisposedException(nameof(SqliteLeaseStore), $"the lease store {Path} is closed"));
        }
        return write.Done.Task;
    }

    private SqliteCommand Command(string sql, params string[] parameters)
    {
        SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (string name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        return command;
    }

    private void WriteLoop()
    {
        var batch = new List<Write>(MaxBatch);
        ChannelReader<Write> reader = _queue.Reader;
        while (reader.TryPeek(out _) || reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out Write? write))
            {
                batch.Add(write);
            }
            Commit(batch);
        }
    }

    // Writes between reads share one transaction: all of it is durable, or every caller learns it is not.
    // Reads run on their own, in queue order, outside any transaction.
    private void Commit(List<Write> batch)
    {
        int start = 0;
        for (int i = 0; i <= batch.Count; i++)
        {
            if (i < batch.Count && batch[i].Kind != WriteKind.Read)
            {
                continue;
            }
            CommitWrites(batch, start, i);
            if (i < batch.Count)
            {
                Write read = batch[i];
                try
                {
                    read.Read!(_connection);
                    read.Done.TrySetResult();
                }
                catch (Exception e)
                {
                    read.Done.TrySetException(new IOException($"lease store {Path}: {e.Message}", e));
                }
            }
            start = i + 1;
        }
    }

    private void CommitWrites(List<Write> batch, int start, int end)
    {
        if (start >= end)
        {
            return;
        }
        try
        {
            using (SqliteTransaction transaction = _connection.BeginTransaction())
            {
                _insert.Transaction = _update.Transaction = _delete.Transaction = _topology.Transaction = transaction;
                for (int i = start; i < end; i++)
                {
                    Apply(batch[i]);
                }
                transaction.Commit();
            }
            for (int i = start; i < end; i++)
            {
                batch[i].Done.TrySetResult();
            }
        }
        catch (Exception e)
        {
            // The transaction rolled back: the id-to-row map must again say what the table holds.
            ReloadRows();
            for (int i = start; i < end; i++)
            {
                batch[i].Done.TrySetException(new IOException($"lease store {Path}: {e.Message}", e));
            }
        }
    }

    private void ReloadRows()
    {
        try
        {
            _rowOf.Clear();
            _lastRow = Math.Max(_lastRow, ReadRows(_connection, _rowOf));
        }
        catch (SqliteException)
        {
            // The file is failing altogether; every later write reports it.
        }
    }

    private void Apply(Write write)
    {
        switch (write.Kind)
        {
            case WriteKind.Insert:
                LeaseEntry entry = write.Entry!;
                long row = ++_lastRow;
                _insert.Parameters[0].Value = row;
                _insert.Parameters[1].Value = entry.Id;
                _insert.Parameters[2].Value = entry.ExpiresAt.ToUnixTimeMilliseconds();
                _insert.Parameters[3].Value = (long)entry.Ttl.TotalMilliseconds;
                _insert.Parameters[4].Value = LeaseCodec.Links(entry.Links);
                _insert.Parameters[5].Value = LeaseCodec.Body(entry);
                _insert.ExecuteNonQuery();
                _rowOf[entry.Id] = row;
                break;
            case WriteKind.Update:
                if (_rowOf.TryGetValue(write.Entry!.Id, out long updated))
                {
                    _update.Parameters[0].Value = updated;
                    _update.Parameters[1].Value = write.Entry.ExpiresAt.ToUnixTimeMilliseconds();
                    _update.Parameters[2].Value = LeaseCodec.Body(write.Entry);
                    _update.ExecuteNonQuery();
                }
                break;
            case WriteKind.Delete:
                if (_rowOf.Remove(write.Text!, out long deleted))
                {
                    _delete.Parameters[0].Value = deleted;
                    _delete.ExecuteNonQuery();
                }
                break;
            case WriteKind.Topology:
                _topology.Parameters[0].Value = write.Version;
                _topology.Parameters[1].Value = write.Text!;
                _topology.Parameters[2].Value = write.At.ToUnixTimeMilliseconds();
                _topology.ExecuteNonQuery();
                break;
        }
    }

    private enum WriteKind
    {
        Insert,
        Update,
        Delete,
        Topology,
        Read,
    }

    private sealed record Write(WriteKind Kind, LeaseEntry? Entry, string? Text)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Version { get; init; }

        public DateTimeOffset At { get; init; }

        public Action<SqliteConnection>? Read { get; init; }
    }
}
