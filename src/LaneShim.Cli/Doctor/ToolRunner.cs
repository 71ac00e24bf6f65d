// ToolRunner.cs - runs ip and tc for the doctor, with a deadline, and never throws for a missing tool.
using System.ComponentModel;
using System.Diagnostics;

namespace LaneShim.Cli.Doctor;

/// <summary>Runs a short-lived system tool and captures its output.</summary>
internal static class ToolRunner
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    /// <summary>The tool's exit code and output, or null when it could not be started or did not finish in time.</summary>
    public static (int ExitCode, string Stdout, string Stderr)? Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // ip and tc print numbers and names the same in every locale, but keep their messages in English for reports.
        psi.Environment["LC_ALL"] = "C";
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new Win32Exception();
        }
        catch (Win32Exception)
        {
            return null;
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Deadline))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }

            process.WaitForExit();
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
