// BrokerProcess.cs - the lane broker the demo runs: the lab's topology, the demo's policy, the Linux-router backend.
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>`laneshim broker` as a detached process with its log in the work directory.</summary>
internal sealed class BrokerProcess : IDisposable
{
    private readonly LoggedDaemon _daemon;

    private BrokerProcess(LoggedDaemon daemon, string socket)
    {
        _daemon = daemon;
        Socket = socket;
    }

    public string Socket { get; }

    public string LogFile => _daemon.LogFile;

    public bool Running => _daemon.Running;

    /// <summary>Starts the broker and waits until it says it is listening; throws <see cref="DemoException"/> with its log otherwise.</summary>
    public static BrokerProcess Start(string laneshim, string socket, string policy, string topology, string logFile, CancellationToken cancel, bool kernelPath = false)
    {
        LoggedDaemon daemon = LoggedDaemon.Start(
            [laneshim, "broker", "--listen", $"unix:{socket}", "--policy", policy, "--topology", topology, "--enforce", "linux-router", "--verbose",
                .. kernelPath ? ["--bpf"] : Array.Empty<string>()], logFile, "listening on",
            log => new DemoException($"the broker did not start{(log.Length > 0 ? ":\n" + log : "")}"), cancel);
        return new BrokerProcess(daemon, socket);
    }

    /// <summary>How many lanes the broker has granted so far (with --verbose its log has one line per grant).</summary>
    public int Grants() => _daemon.Log().Split('\n').Count(l => l.Contains("RequestLane", StringComparison.Ordinal) && l.Contains("grant by", StringComparison.Ordinal));

    public void Dispose() => _daemon.Dispose();
}
