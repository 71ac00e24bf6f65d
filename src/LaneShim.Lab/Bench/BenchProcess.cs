// BenchProcess.cs - runs one short-lived program of a benchmark (ip, laneshim-bench in a namespace) and captures its output.
using System.ComponentModel;
using System.Diagnostics;

namespace LaneShim.Lab.Bench;

/// <summary>Runs a program to completion with a deadline; a failure is a <see cref="BenchException"/> carrying its stderr.</summary>
internal static class BenchProcess
{
    public const string Ip = "/usr/sbin/ip";

    /// <summary>argv run inside network namespace <paramref name="netns"/> with <paramref name="env"/> set (through env(1), so ip itself is never preloaded).</summary>
    public static string[] InNetns(string netns, IReadOnlyDictionary<string, string>? env, params string[] argv) =>
        [Ip, "netns", "exec", netns, "/usr/bin/env", .. (env ?? new Dictionary<string, string>()).Select(kv => $"{kv.Key}={kv.Value}"), .. argv];

    /// <summary>argv run with <paramref name="env"/> set through env(1).</summary>
    public static string[] WithEnv(IReadOnlyDictionary<string, string> env, params string[] argv) =>
        ["/usr/bin/env", .. env.Select(kv => $"{kv.Key}={kv.Value}"), .. argv];

    /// <summary>Runs argv; returns stdout. Throws when it cannot start, exceeds <paramref name="timeout"/> or exits non-zero.</summary>
    public static string Run(IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancel = default)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in argv.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment.Remove("LD_PRELOAD"); // the harness's own preload (if any) must not leak into a baseline
        psi.Environment["LC_ALL"] = "C";
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new Win32Exception();
        }
        catch (Win32Exception e)
        {
            throw new BenchException($"cannot start {argv[0]}: {e.Message}");
        }
        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            Task<string> stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using CancellationTokenRegistration stop = cancel.Register(() => TryKill(process));
            if (!process.WaitForExit(timeout))
            {
                TryKill(process);
                throw new BenchException($"{Describe(argv)} took longer than {timeout.TotalSeconds:0} s");
            }
            process.WaitForExit();
            cancel.ThrowIfCancellationRequested();
            if (process.ExitCode != 0)
            {
                throw new BenchException($"{Describe(argv)} failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
            }
            return stdout.Result;
        }
    }

    /// <summary>The failure of a helper that did not start, with its log.</summary>
    public static Func<string, Exception> DidNotStart(string what) => log => new BenchException($"{what} did not start{(log.Length > 0 ? ": " + log : "")}");

    /// <summary>Runs a shell command line for setup or cleanup, ignoring its result (e.g. deleting what may not exist).</summary>
    public static void Quiet(params string[] argv)
    {
        try
        {
            Run(argv, TimeSpan.FromSeconds(30));
        }
        catch (BenchException)
        {
        }
    }

    /// <summary>One number per line.</summary>
    public static List<double> Numbers(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(double.Parse).ToList();

    private static string Describe(IReadOnlyList<string> argv) =>
        string.Join(' ', argv.SkipWhile(a => a is Ip or "netns" or "exec").Take(6));

    private static void TryKill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
