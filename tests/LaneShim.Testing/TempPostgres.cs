// TempPostgres.cs - a throwaway PostgreSQL server for one test: its own data directory, Unix socket directory and port.
using System.Net;
using System.Net.Sockets;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Testing;

/// <summary>
/// initdb into a temp directory as the <c>postgres</c> OS user (the server refuses to run as root), start it on a
/// random port with its Unix socket in that directory and no TCP listener, create a database; stop and delete on
/// dispose. The system cluster is never touched.
/// </summary>
public sealed class TempPostgres : IDisposable
{
    private const string User = "laneshim";
    private readonly string _bin;
    private readonly string _data;

    private TempPostgres(string bin, string directory, int port)
    {
        _bin = bin;
        SocketDirectory = directory;
        _data = Path.Combine(directory, "data");
        Port = port;
    }

    /// <summary>The server's directory: data, Unix socket, log.</summary>
    public string SocketDirectory { get; }

    /// <summary>The port in the socket's name (.s.PGSQL.PORT).</summary>
    public int Port { get; }

    /// <summary>The database made for the test.</summary>
    public string Database { get; } = "laneshim";

    /// <summary>A Npgsql connection string over the Unix socket.</summary>
    public string ConnectionString => $"Host={SocketDirectory};Port={Port};Username={User};Database={Database};Pooling=true;Maximum Pool Size=40";

    /// <summary>Starts a server, or marks the test inconclusive when PostgreSQL is not installed.</summary>
    public static TempPostgres Start()
    {
        string? bin = System.IO.Directory.Exists("/usr/lib/postgresql")
            ? System.IO.Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).OrderDescending().FirstOrDefault()
            : null;
        if (bin is null)
        {
            Assert.Inconclusive("PostgreSQL is not installed (apt-get install postgresql; build.sh deps does it)");
        }

        string dir = System.IO.Directory.CreateTempSubdirectory($"laneshim-pg-{Environment.ProcessId}-").FullName;
        var server = new TempPostgres(bin!, dir, FreePort());
        try
        {
            ProcessRunner.Check("/bin/chown", "postgres:postgres", dir);
            server.AsPostgres("initdb", "-D", server._data, "-U", User, "-A", "trust", "--no-sync", "-E", "UTF8");
            server.AsPostgres("pg_ctl", "-D", server._data, "-l", Path.Combine(dir, "server.log"), "-w", "-t", "60",
                "-o", $"-p {server.Port} -k {dir} -c listen_addresses='' -c fsync=off -c max_connections=200", "start");
            server.AsPostgres("createdb", "-h", dir, "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", User, server.Database);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Runs SQL through psql and returns its unaligned output.</summary>
    public string Sql(string sql) =>
        AsPostgres("psql", "-h", SocketDirectory, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", User, "-d", Database, "-At", "-c", sql).Trim();

    public void Dispose()
    {
        if (File.Exists(Path.Combine(_data, "postmaster.pid")))
        {
            ProcessRunner.Run("/usr/sbin/runuser", ["-u", "postgres", "--", Path.Combine(_bin, "pg_ctl"), "-D", _data, "-m", "immediate", "-w", "stop"], timeout: TimeSpan.FromSeconds(60));
        }
        try
        {
            System.IO.Directory.Delete(SocketDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string AsPostgres(string tool, params string[] args)
    {
        ProcessResult r = ProcessRunner.Run("/usr/sbin/runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args], timeout: TimeSpan.FromSeconds(120));
        return r.ExitCode == 0 ? r.Stdout : throw new InvalidOperationException($"{tool} failed: {r.Describe()}\n{ReadLog()}");
    }

    private string ReadLog()
    {
        string log = Path.Combine(SocketDirectory, "server.log");
        return File.Exists(log) ? File.ReadAllText(log) : "";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
