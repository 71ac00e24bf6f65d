// BenchBroker.cs - a real `laneshim broker` process on a Unix socket in the work directory, for one benchmark.
using LaneShim.Cli.Lab;

namespace LaneShim.Cli.Bench;

/// <summary>Starts the broker with the given flags and counts its grants from its log.</summary>
internal sealed class BenchBroker : IDisposable
{
    private readonly LoggedDaemon _daemon;

    private BenchBroker(LoggedDaemon daemon, string socket)
    {
        _daemon = daemon;
        Socket = socket;
    }

    public string Socket { get; }

    public int Pid => _daemon.Pid;

    /// <summary>`laneshim broker --listen unix:WORK/NAME.sock --policy WORK/NAME.conf` plus <paramref name="flags"/>.</summary>
    public static BenchBroker Start(BenchContext context, string name, string policy, params string[] flags)
    {
        string socket = Path.Combine(context.WorkDirectory, name + ".sock");
        string policyFile = Path.Combine(context.WorkDirectory, name + ".conf");
        File.WriteAllText(policyFile, policy);
        LoggedDaemon daemon = LoggedDaemon.Start([context.Laneshim, "broker", "--listen", "unix:" + socket, "--policy", policyFile, .. flags],
            Path.Combine(context.WorkDirectory, name + ".log"), "listening on", BenchProcess.DidNotStart("laneshim broker"), context.Cancel);
        return new BenchBroker(daemon, socket);
    }

    /// <summary>Lanes granted so far (the broker logs one line per grant).</summary>
    public int Grants() => _daemon.Log().Split('\n').Count(l => l.Contains("RequestLane", StringComparison.Ordinal) && l.Contains("grant by", StringComparison.Ordinal));

    public void Dispose() => _daemon.Dispose();
}
