// ClientRunner.cs - runs a mover's client command with a time limit, timing it and keeping its output.
using System.ComponentModel;
using System.Diagnostics;

namespace LaneShim.Lab.Demo;

/// <summary>Starts a client, waits for it up to a limit, and at the limit measures what it moved before stopping it.</summary>
internal static class ClientRunner
{
    /// <summary>
    /// Runs <paramref name="argv"/> without the shim inherited from us, an English locale and no ssh agent. At
    /// <paramref name="limit"/> it calls <paramref name="bytesMoved"/> and then kills the whole process tree.
    /// Throws <see cref="OperationCanceledException"/> (after killing it) when <paramref name="cancel"/> fires.
    /// <paramref name="environment"/> adds variables (the shim's log settings in laneshim mode).
    /// </summary>
    public static ClientOutcome Run(IReadOnlyList<string> argv, TimeSpan limit, Func<long> bytesMoved, CancellationToken cancel,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in argv.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }
        foreach (string key in psi.Environment.Keys.Where(k => k == "LD_PRELOAD" || k == "SSH_AUTH_SOCK" || k.StartsWith("LANESHIM_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }
        psi.Environment["LC_ALL"] = "C";
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }
        var stopwatch = Stopwatch.StartNew();
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new Win32Exception();
        }
        catch (Win32Exception e)
        {
            return new ClientOutcome(127, false, stopwatch.Elapsed, "", $"cannot start {argv[0]}: {e.Message}", -1);
        }
        using (process)
        {
            process.StandardInput.Close();
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            Task<string> stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            DateTime until = DateTime.UtcNow + limit;
            while (!process.WaitForExit(TimeSpan.FromMilliseconds(50)))
            {
                if (cancel.IsCancellationRequested)
                {
                    Kill(process);
                    cancel.ThrowIfCancellationRequested();
                }
                if (DateTime.UtcNow >= until)
                {
                    TimeSpan elapsed = stopwatch.Elapsed;
                    long bytes = bytesMoved();
                    Kill(process);
                    return new ClientOutcome(null, true, elapsed, Wait(stdout), Wait(stderr), bytes);
                }
            }
            process.WaitForExit(); // drains the redirected streams
            TimeSpan took = stopwatch.Elapsed;
            return new ClientOutcome(process.ExitCode, false, took, Wait(stdout), Wait(stderr), -1);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it ended on its own meanwhile
        }
        process.WaitForExit(TimeSpan.FromSeconds(10));
    }

    private static string Wait(Task<string> output) => output.Wait(TimeSpan.FromSeconds(5)) ? output.Result : "";
}
