// BackgroundProcess.cs - a long-running helper (server, broker) that a test starts, waits for, and always stops.
using System.Diagnostics;
using System.Text;

namespace LaneShim.Testing;

/// <summary>A started process whose output is collected; disposing kills it and its children.</summary>
public sealed class BackgroundProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public BackgroundProcess(string file, IEnumerable<string> args, IDictionary<string, string?>? env = null)
    {
        _process = ProcessRunner.Start(file, args, env);
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_stdout) { _stdout.AppendLine(e.Data); } } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_stderr) { _stderr.AppendLine(e.Data); } } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <summary>Polls until <paramref name="ready"/> holds, the process exits, or the timeout passes.</summary>
    public void WaitUntil(Func<bool> ready, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!ready())
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"process exited ({_process.ExitCode}) before {what}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
            }
            if (sw.Elapsed > timeout)
            {
                throw new TimeoutException($"not {what} after {timeout.TotalSeconds} s\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
            }
            Thread.Sleep(20); // polling interval, not a wait for readiness
        }
    }

    /// <summary>Waits for a line of stdout containing <paramref name="text"/>.</summary>
    public void WaitForOutput(string text, TimeSpan timeout) => WaitUntil(() => Stdout.Contains(text, StringComparison.Ordinal), timeout, $"printed '{text}'");

    /// <summary>Waits for the process to end on its own.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException($"still running after {timeout.TotalSeconds} s\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
        }
        // No unbounded wait for end-of-output: an orphaned grandchild may hold the pipes open.
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
