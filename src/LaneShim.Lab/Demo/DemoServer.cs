// DemoServer.cs - a mover's server, running detached in the lab's server namespace for one run.
using LaneShim.Cli.Native;
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>Started by <see cref="Start"/>, ready once its port listens; <see cref="Dispose"/> ends it and everything it forked.</summary>
internal sealed class DemoServer : IDisposable
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(20);
    private readonly DemoContext _context;
    private readonly int _pid;
    private bool _stopped;

    private DemoServer(DemoContext context, int pid, string logFile, bool wrapped)
    {
        _context = context;
        _pid = pid;
        LogFile = logFile;
        Wrapped = wrapped;
    }

    /// <summary>The server's stdout and stderr.</summary>
    public string LogFile { get; }

    /// <summary>It runs under `laneshim run` (its shim logs to the log file's name with -shim).</summary>
    public bool Wrapped { get; }

    /// <summary>Starts the server and waits until its port listens; throws <see cref="DemoException"/> with its log when it does not.</summary>
    public static DemoServer Start(DemoContext context, DemoServerSpec spec, bool wrapped, string logFile, CancellationToken cancel)
    {
        File.WriteAllText(logFile, $"# {string.Join(' ', spec.Argv)}\n");
        string? shimLog = wrapped ? Path.ChangeExtension(logFile, null) + "-shim.log" : null;
        if (shimLog is not null && OperatingSystem.IsLinux())
        {
            // Servers that drop to nobody (XRootD, GridFTP's session) open it after they did: it must be theirs to write.
            File.WriteAllText(shimLog, "");
            File.SetUnixFileMode(shimLog, (UnixFileMode)0x1b6 /* 0666 */);
        }
        IReadOnlyList<string> argv = context.ServerCommand(wrapped, spec.Argv, shimLog, spec.KernelPath);
        var server = new DemoServer(context, ChildProcess.StartDetached(argv, logFile, message => new LabException(message)).Pid, logFile, wrapped);
        try
        {
            server.WaitListening(spec, cancel);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private void WaitListening(DemoServerSpec spec, CancellationToken cancel)
    {
        string ss = LabTools.Find("ss", "iproute2");
        DateTime until = DateTime.UtcNow + ReadyDeadline;
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            ToolOutput r = LabTools.Run(_context.Ip, ["netns", "exec", _context.Lab.Namespaces.Server, ss, "-tlnH", $"( sport = :{spec.Port} )"]);
            if (r.ExitCode == 0 && r.Stdout.Contains($":{spec.Port}", StringComparison.Ordinal))
            {
                return;
            }
            if (ChildProcess.Reap(_pid) is not null || !ProcessTable.IsAlive(_pid))
            {
                throw new DemoException($"{spec.Name} did not start: {LogTail()}");
            }
            if (DateTime.UtcNow > until)
            {
                throw new DemoException($"{spec.Name} is not listening on port {spec.Port} after {ReadyDeadline.TotalSeconds} s: {LogTail()}");
            }
            Thread.Sleep(50); // polling interval of the readiness check
        }
    }

    /// <summary>The last lines of the server's log, on one line.</summary>
    public string LogTail()
    {
        try
        {
            string[] lines = File.ReadAllLines(LogFile).Where(l => !l.StartsWith('#') && l.Trim().Length > 0).ToArray();
            return lines.Length == 0 ? "(no output)" : string.Join(" | ", lines.TakeLast(3).Select(l => l.Trim()));
        }
        catch (IOException e)
        {
            return $"(log unreadable: {e.Message})";
        }
    }

    /// <summary>Ends the server and every process in the server namespace; returns a problem, or null when all ended.</summary>
    public string? Stop()
    {
        if (_stopped)
        {
            return null;
        }
        _stopped = true;
        IReadOnlyList<int> left = NamespaceProcesses.Stop(_context.Lab.Namespaces.Server, [_pid]);
        ChildProcess.Reap(_pid);
        return left.Count == 0 ? null : $"server processes {string.Join(", ", left)} in {_context.Lab.Namespaces.Server} did not end";
    }

    public void Dispose() => Stop();
}
