// BrokerProcess.cs - the lane broker the demo runs: the lab's topology, the demo's policy, the Linux-router backend.
using LaneShim.Cli.Lab;

namespace LaneShim.Cli.Demo;

/// <summary>`laneshim broker` as a detached process with its log in the work directory.</summary>
internal sealed class BrokerProcess : IDisposable
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(30);
    private readonly int _pid;
    private bool _stopped;

    private BrokerProcess(int pid, string socket, string logFile)
    {
        _pid = pid;
        Socket = socket;
        LogFile = logFile;
    }

    public string Socket { get; }

    public string LogFile { get; }

    public bool Running => !_stopped && ProcessTable.IsAlive(_pid);

    /// <summary>Starts the broker and waits until it says it is listening; throws <see cref="DemoException"/> with its log otherwise.</summary>
    public static BrokerProcess Start(string laneshim, string socket, string policy, string topology, string logFile, CancellationToken cancel)
    {
        int pid = DetachedProcess.Start([laneshim, "broker", "--listen", $"unix:{socket}", "--policy", policy, "--topology", topology, "--enforce", "linux-router"], logFile);
        var broker = new BrokerProcess(pid, socket, logFile);
        DateTime until = DateTime.UtcNow + ReadyDeadline;
        while (!broker.Log().Contains("listening on", StringComparison.Ordinal))
        {
            if (cancel.IsCancellationRequested || DetachedProcess.Reap(pid) is not null || !ProcessTable.IsAlive(pid) || DateTime.UtcNow > until)
            {
                string log = broker.Log().Trim();
                broker.Dispose();
                cancel.ThrowIfCancellationRequested();
                throw new DemoException($"the broker did not start{(log.Length > 0 ? ":\n" + log : "")}");
            }
            Thread.Sleep(50); // polling interval of the readiness check
        }
        return broker;
    }

    /// <summary>How many lanes the broker has granted so far (its log has one line per grant).</summary>
    public int Grants() => Log().Split('\n').Count(l => l.Contains("RequestLane", StringComparison.Ordinal) && l.Contains("grant by", StringComparison.Ordinal));

    private string Log()
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
