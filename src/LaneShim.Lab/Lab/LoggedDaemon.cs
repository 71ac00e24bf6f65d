// LoggedDaemon.cs - a long-running helper (a broker, a listener) detached with its output in a log file, ready when the log says so, stopped by its pid.
using LaneShim.Cli.Native;

namespace LaneShim.Lab.Lab;

/// <summary>A detached process that is ready once its log shows a line; disposing it stops it (SIGTERM, then SIGKILL).</summary>
internal sealed class LoggedDaemon : IDisposable
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(30);
    private readonly int _pid;
    private bool _stopped;

    private LoggedDaemon(int pid, string logFile)
    {
        _pid = pid;
        LogFile = logFile;
    }

    public string LogFile { get; }

    public int Pid => _pid;

    /// <summary>
    /// Starts argv and waits until its log contains <paramref name="readyText"/>; otherwise stops it and throws what
    /// <paramref name="failure"/> makes of the log.
    /// </summary>
    public static LoggedDaemon Start(IReadOnlyList<string> argv, string logFile, string readyText, Func<string, Exception> failure, CancellationToken cancel)
    {
        int pid = ChildProcess.StartDetached(argv, logFile, message => new LabException(message)).Pid;
        var daemon = new LoggedDaemon(pid, logFile);
        DateTime until = DateTime.UtcNow + ReadyDeadline;
        while (!daemon.Log().Contains(readyText, StringComparison.Ordinal))
        {
            if (cancel.IsCancellationRequested || ChildProcess.Reap(pid) is not null || !ProcessTable.IsAlive(pid) || DateTime.UtcNow > until)
            {
                string log = daemon.Log().Trim();
                daemon.Dispose();
                cancel.ThrowIfCancellationRequested();
                throw failure(log);
            }
            Thread.Sleep(20); // polling interval of the readiness check
        }
        return daemon;
    }

    /// <summary>True until stopped, while the process lives.</summary>
    public bool Running => !_stopped && ProcessTable.IsAlive(_pid);

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
        ChildProcess.Reap(_pid);
    }
}
