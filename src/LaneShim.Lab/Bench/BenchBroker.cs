// BenchBroker.cs - a real `laneshim broker` process on a Unix socket in the work directory, for one benchmark.
using System.Globalization;
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Bench;

/// <summary>Starts the broker with the given flags and counts its grants from its /metrics (its log stays quiet, as in production).</summary>
internal sealed class BenchBroker : IDisposable
{
    private static readonly HttpClient Scraper = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly LoggedDaemon _daemon;
    private readonly Uri _metrics;

    private BenchBroker(LoggedDaemon daemon, string socket, Uri metrics)
    {
        _daemon = daemon;
        Socket = socket;
        _metrics = metrics;
    }

    public string Socket { get; }

    public int Pid => _daemon.Pid;

    /// <summary>`laneshim broker --listen unix:WORK/NAME.sock --policy WORK/NAME.conf --metrics http://127.0.0.1:0` plus <paramref name="flags"/>.</summary>
    public static BenchBroker Start(BenchContext context, string name, string policy, params string[] flags)
    {
        string socket = Path.Combine(context.WorkDirectory, name + ".sock");
        string policyFile = Path.Combine(context.WorkDirectory, name + ".conf");
        File.WriteAllText(policyFile, policy);
        LoggedDaemon daemon = LoggedDaemon.Start(
            [context.Laneshim, "broker", "--listen", "unix:" + socket, "--policy", policyFile, "--metrics", "http://127.0.0.1:0", .. flags],
            Path.Combine(context.WorkDirectory, name + ".log"), "metrics on", BenchProcess.DidNotStart("laneshim broker"), context.Cancel);
        string line = daemon.Log().Split('\n').First(l => l.Contains("metrics on", StringComparison.Ordinal));
        var metrics = new Uri(line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim());
        return new BenchBroker(daemon, socket, metrics);
    }

    /// <summary>Lanes granted so far: the sum of laneshim_grants_total{result="granted"} (the broker's own warm-up grant included).</summary>
    public int Grants()
    {
        string text = Scraper.GetStringAsync(_metrics).GetAwaiter().GetResult();
        double sum = 0;
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith("laneshim_grants_total{", StringComparison.Ordinal) && line.Contains("result=\"granted\"", StringComparison.Ordinal))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }
        return (int)sum;
    }

    public void Dispose() => _daemon.Dispose();
}
