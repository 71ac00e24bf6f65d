// TemporaryPostgres.cs - a throw-away PostgreSQL server (the store benchmark's, and the tests'): its own data directory, port and socket, removed afterwards.
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LaneShim.Lab.Bench;

/// <summary>
/// initdb as the postgres user (the server refuses to run as root) into a private temp directory, started with pg_ctl on
/// a free port with its Unix socket in that directory and trust authentication for user laneshim; stopped (immediate)
/// and deleted on dispose. The system cluster is never touched.
/// </summary>
internal sealed class TemporaryPostgres : IDisposable
{
    private const string User = "laneshim";
    private readonly string _bin;

    private TemporaryPostgres(string bin, string directory, int port, string database)
    {
        _bin = bin;
        SocketDirectory = directory;
        Port = port;
        Database = database;
    }

    /// <summary>The server's directory: data, Unix socket, log.</summary>
    public string SocketDirectory { get; }

    /// <summary>The port: on 127.0.0.1 when started with <see cref="TemporaryPostgresOptions.ListenOnLoopback"/>, and in the socket's name (.s.PGSQL.PORT).</summary>
    public int Port { get; }

    /// <summary>The database to use: the one created for the caller, or postgres.</summary>
    public string Database { get; }

    /// <summary>A postgres:// URI over TCP to 127.0.0.1 (for a server listening on loopback), as `laneshim broker --state` takes it.</summary>
    public string Uri => $"postgres://{User}@127.0.0.1:{Port}/{Database}";

    /// <summary>An Npgsql connection string over the Unix socket, as `laneshim broker --postgres` takes it.</summary>
    public string ConnectionString => $"Host={SocketDirectory};Port={Port};Username={User};Database={Database};Pooling=true;Maximum Pool Size=40";

    private string Data => Path.Combine(SocketDirectory, "data");

    private string LogFile => Path.Combine(SocketDirectory, "server.log");

    /// <summary>The directory with initdb and pg_ctl (the newest installed version), or null when PostgreSQL is not installed.</summary>
    public static string? FindBinaries()
    {
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            string? bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int v) ? v : 0).FirstOrDefault();
            if (bin is not null)
            {
                return bin;
            }
        }
        return File.Exists("/usr/local/bin/initdb") && File.Exists("/usr/local/bin/pg_ctl") ? "/usr/local/bin" : null;
    }

    /// <summary>Starts a server; throws <see cref="BenchException"/> when PostgreSQL is missing or does not start (with its log).</summary>
    public static TemporaryPostgres Start(TemporaryPostgresOptions options)
    {
        string bin = FindBinaries() ?? throw new BenchException("PostgreSQL is not installed");
        // A directory of its own outside any work directory: those are root's (0700) and the server runs as postgres.
        string directory = Directory.CreateTempSubdirectory($"{options.DirectoryPrefix}{Environment.ProcessId}-").FullName;
        var pg = new TemporaryPostgres(bin, directory, FreePort(), options.Database ?? "postgres");
        try
        {
            BenchProcess.Run(["/bin/chown", "postgres:postgres", directory], TimeSpan.FromSeconds(10));
            pg.AsPostgres("initdb", TimeSpan.FromMinutes(2), "-D", pg.Data, "-U", User, "-A", "trust", "--no-sync", "-E", "UTF8");
            string listen = options.ListenOnLoopback ? "127.0.0.1" : "''";
            string fsync = options.Fsync ? "on" : "off";
            pg.AsPostgres("pg_ctl", TimeSpan.FromMinutes(2), "-D", pg.Data, "-l", pg.LogFile, "-w", "-t", "60", "-o",
                $"-p {pg.Port} -k {directory} -c listen_addresses={listen} -c fsync={fsync} -c max_connections=200", "start");
            if (options.Database is string database)
            {
                pg.AsPostgres("createdb", TimeSpan.FromMinutes(2), "-h", directory, "-p", pg.Port.ToString(CultureInfo.InvariantCulture), "-U", User, database);
            }
            return pg;
        }
        catch
        {
            pg.Dispose();
            throw;
        }
    }

    /// <summary>Runs SQL through psql and returns its unaligned output.</summary>
    public string Sql(string sql) =>
        AsPostgres("psql", TimeSpan.FromMinutes(2), "-h", SocketDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", User, "-d", Database, "-At", "-c", sql).Trim();

    /// <summary>Stops the server (immediate) and deletes its directory.</summary>
    public void Dispose()
    {
        if (File.Exists(Path.Combine(Data, "postmaster.pid")))
        {
            try
            {
                AsPostgres("pg_ctl", TimeSpan.FromSeconds(60), "-D", Data, "-m", "immediate", "-w", "stop");
            }
            catch (BenchException)
            {
            }
        }
        BenchProcess.Quiet("/bin/rm", "-rf", SocketDirectory);
    }

    private string AsPostgres(string tool, TimeSpan timeout, params string[] args)
    {
        try
        {
            return BenchProcess.Run(["/usr/sbin/runuser", "-u", "postgres", "--", Path.Combine(_bin, tool), .. args], timeout);
        }
        catch (BenchException e) when (File.Exists(LogFile))
        {
            throw new BenchException($"{e.Message}\n{File.ReadAllText(LogFile)}");
        }
    }

    // A port nothing listens on now (the server binds it a moment later; a clash makes pg_ctl fail, and says so).
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
