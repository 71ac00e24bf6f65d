// TemporaryPostgres.cs - a throw-away PostgreSQL server for the store benchmark: its own data directory, port and socket, removed afterwards.
namespace LaneShim.Lab.Bench;

/// <summary>
/// initdb as the postgres user (the server refuses to run as root) into a private directory, started with pg_ctl on
/// a free localhost port with trust authentication for user laneshim; stopped (immediate) and deleted on dispose.
/// </summary>
internal sealed class TemporaryPostgres : IDisposable
{
    private readonly string _bin;
    private readonly string _root;

    private TemporaryPostgres(string bin, string root, int port)
    {
        _bin = bin;
        _root = root;
        Uri = $"postgres://laneshim@127.0.0.1:{port}/postgres";
    }

    public string Uri { get; }

    private string Data => Path.Combine(_root, "data");

    /// <summary>The directory with initdb and pg_ctl (the newest installed version), or null.</summary>
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

    public static TemporaryPostgres Start(BenchContext context)
    {
        string bin = FindBinaries() ?? throw new BenchException("PostgreSQL is not installed");
        // Outside the work directory: that one is root's (0700) and the server runs as postgres.
        string root = Path.Combine(Path.GetTempPath(), $"laneshim-bench-pg-{Environment.ProcessId}");
        int port = FreePort();
        var pg = new TemporaryPostgres(bin, root, port);
        try
        {
            BenchProcess.Quiet("/bin/rm", "-rf", root);
            Directory.CreateDirectory(root);
            BenchProcess.Run(["/bin/chown", "postgres:postgres", root], TimeSpan.FromSeconds(10));
            AsPostgres(TimeSpan.FromMinutes(2), Path.Combine(bin, "initdb"), "-D", pg.Data, "-U", "laneshim", "-A", "trust", "--no-sync", "-E", "UTF8");
            AsPostgres(TimeSpan.FromMinutes(1), Path.Combine(bin, "pg_ctl"), "-D", pg.Data, "-l", Path.Combine(root, "server.log"), "-w", "-o",
                $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200", "start");
            context.Log.WriteLine($"bench: temporary PostgreSQL on 127.0.0.1:{port} ({root})");
            return pg;
        }
        catch
        {
            pg.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (File.Exists(Path.Combine(Data, "postmaster.pid")))
        {
            try
            {
                AsPostgres(TimeSpan.FromSeconds(30), Path.Combine(_bin, "pg_ctl"), "-D", Data, "-m", "immediate", "-w", "stop");
            }
            catch (BenchException)
            {
            }
        }
        BenchProcess.Quiet("/bin/rm", "-rf", _root);
    }

    // A port nothing listens on now (the server binds it a moment later; a clash makes pg_ctl fail, and the figures say so).
    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static void AsPostgres(TimeSpan timeout, params string[] argv) =>
        BenchProcess.Run(["/usr/sbin/runuser", "-u", "postgres", "--", .. argv], timeout);
}
