// ProcessRunner.cs - runs a program to completion (or a deadline) and captures its output.
using System.Diagnostics;

namespace LaneShim.Testing;

/// <summary>Runs programs for tests; a program still running at its deadline is killed and reported as exit -1.</summary>
public static class ProcessRunner
{
    public static ProcessResult Run(string file, IEnumerable<string> args, IDictionary<string, string?>? env = null, TimeSpan? timeout = null, string? stdin = null)
    {
        using Process p = Start(file, args, env, redirectStdin: stdin is not null);
        var sw = Stopwatch.StartNew();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        bool exited = p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60));
        if (!exited)
        {
            try
            {
                p.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            p.WaitForExit();
        }
        return new ProcessResult(exited ? p.ExitCode : -1, stdout.Result, stderr.Result + (exited ? "" : "\n[killed: timeout]"), sw.Elapsed);
    }

    /// <summary>Runs a shell command line with bash -c.</summary>
    public static ProcessResult Shell(string command, TimeSpan? timeout = null) => Run("/bin/bash", ["-c", command], timeout: timeout);

    /// <summary>Runs and throws with the output if the exit code is not 0.</summary>
    public static ProcessResult Check(string file, params string[] args)
    {
        ProcessResult r = Run(file, args);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {r.Describe()}");
        }
        return r;
    }

    /// <summary>Starts a process with redirected output; the caller owns it.</summary>
    public static Process Start(string file, IEnumerable<string> args, IDictionary<string, string?>? env = null, bool redirectStdin = false)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        // Tests must not inherit a preload or broker from the developer's shell.
        foreach (string key in new[] { "LD_PRELOAD", "LANESHIM_BROKER", "LANESHIM_DISABLE", "LANESHIM_LOG", "LANESHIM_CONFIG" })
        {
            psi.Environment.Remove(key);
        }
        if (env is not null)
        {
            foreach ((string k, string? v) in env)
            {
                if (v is null)
                {
                    psi.Environment.Remove(k);
                }
                else
                {
                    psi.Environment[k] = v;
                }
            }
        }
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
    }
}
