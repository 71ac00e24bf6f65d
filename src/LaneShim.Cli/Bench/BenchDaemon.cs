// BenchDaemon.cs - a long-running helper of a benchmark (a broker, a listener) with its output in a log file, stopped by its pid.
using LaneShim.Cli.Lab;

namespace LaneShim.Cli.Bench;

/// <summary>A detached process that is ready once its log shows a line; disposing it stops it (SIGTERM, then SIGKILL).</summary>
internal sealed class BenchDaemon : IDisposable
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(30);
    private readonly int _pid;
    private bool _stopped;

    private BenchDaemon(int pid, string logFile)
    {
        _pid = pid;
        LogFile = logFile;
    }

    public string LogFile { get; }

    public int Pid => _pid;

    /// <summary>Starts argv and waits until its log contains <paramref name="readyText"/>; throws with the log otherwise.</summary>
    public static BenchDaemon Start(IReadOnlyList<string> argv, string logFile, string readyText, CancellationToken cancel)
    {
        int pid = DetachedProcess.Start(argv, logFile);
        var daemon = new BenchDaemon(pid, logFile);
        DateTime until = DateTime.UtcNow + ReadyDeadline;
        while (!daemon.Log().Contains(readyText, StringComparison.Ordinal))
        {
            if (cancel.IsCancellationRequested || DetachedProcess.Reap(pid) is not null || !ProcessTable.IsAlive(pid) || DateTime.UtcNow > until)
            {
                string log = daemon.Log().Trim();
                daemon.Dispose();
                cancel.ThrowIfCancellationRequested();
                throw new BenchException($"{string.Join(" ", argv.Take(6))} did not start{(log.Length > 0 ? ": " + log : "")}");
            }
            Thread.Sleep(20); // polling interval of the readiness check
        }
        return daemon;
    }

    public string Log()
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    public void Dispose()
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        ProcessTable.Signal(_pid, ProcessTable.SigTerm);
        if (ProcessTable.WaitGone([_pid], TimeSpan.FromSeconds(10)).Count > 0)
        {
            ProcessTable.Signal(_pid, ProcessTable.SigKill);
            ProcessTable.WaitGone([_pid], TimeSpan.FromSeconds(5));
        }
        DetachedProcess.Reap(_pid);
    }
}
