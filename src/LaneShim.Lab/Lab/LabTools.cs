// LabTools.cs - runs ip, nft, sysctl and ping with a deadline, an English locale and without the shim preloaded.
using System.ComponentModel;
using System.Diagnostics;

namespace LaneShim.Lab.Lab;

/// <summary>The system tools the lab drives; a failed call becomes a <see cref="LabException"/> with the tool's own message.</summary>
internal static class LabTools
{
    private static readonly string[] SystemDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];
    private static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(20);

    public static string Ip => Find("ip", "iproute2");

    public static string Nft => Find("nft", "nftables");

    public static string Sysctl => Find("sysctl", "procps");

    public static string Ping => Find("ping", "iputils-ping");

    /// <summary>The absolute path of a tool, from PATH or the system directories; throws naming the Debian package.</summary>
    public static string Find(string tool, string package)
    {
        IEnumerable<string> dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(SystemDirectories);
        foreach (string dir in dirs)
        {
            string candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new LabException($"'{tool}' is not installed (Debian package {package}; ./build.sh installs it when run as root)");
    }

    /// <summary>Runs a tool to completion; null exit code when it did not finish in time (it is killed).</summary>
    public static ToolOutput Run(string tool, IEnumerable<string> args, string? stdin = null, TimeSpan? deadline = null)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["LC_ALL"] = "C";
        psi.Environment.Remove("LD_PRELOAD"); // the lab's own tools never run under the shim
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new Win32Exception();
        }
        catch (Win32Exception e)
        {
            throw new LabException($"cannot run {tool}: {e.Message}");
        }
        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                process.StandardInput.Write(stdin);
                process.StandardInput.Close();
            }
            if (!process.WaitForExit(deadline ?? DefaultDeadline))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new ToolOutput(null, stdout.Result, stderr.Result);
            }
            process.WaitForExit();
            return new ToolOutput(process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>Runs a tool and throws a <see cref="LabException"/> saying what failed unless it exits 0.</summary>
    public static string Check(string what, string tool, IEnumerable<string> args, string? stdin = null, TimeSpan? deadline = null)
    {
        string[] argv = args.ToArray();
        ToolOutput r = Run(tool, argv, stdin, deadline);
        if (r.ExitCode != 0)
        {
            string why = r.ExitCode is null ? "did not finish in time" : $"exit {r.ExitCode}";
            string detail = (r.Stderr.Trim() + "\n" + r.Stdout.Trim()).Trim();
            throw new LabException($"{what} failed ({Path.GetFileName(tool)} {string.Join(' ', argv)}: {why}){(detail.Length > 0 ? ":\n" + Indent(detail) : "")}");
        }
        return r.Stdout;
    }

    /// <summary>`ip -n NS -batch -`: many ip commands in one namespace with one process.</summary>
    public static void IpBatch(string what, string? netns, IEnumerable<string> commands)
    {
        string[] lines = commands.ToArray();
        if (lines.Length == 0)
        {
            return;
        }
        string[] args = netns is null ? ["-batch", "-"] : ["-n", netns, "-batch", "-"];
        Check(what, Ip, args, string.Join('\n', lines) + "\n");
    }

    /// <summary>`ip netns exec NS tool args...`.</summary>
    public static string InNamespace(string what, string netns, string tool, IEnumerable<string> args, string? stdin = null, TimeSpan? deadline = null) =>
        Check(what, Ip, ["netns", "exec", netns, tool, .. args], stdin, deadline);

    /// <summary>The names under /var/run/netns, from `ip netns list`.</summary>
    public static IReadOnlySet<string> Namespaces()
    {
        ToolOutput r = Run(Ip, ["netns", "list"]);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            names.Add(line.Split(' ', 2)[0]); // "name (id: 3)"
        }
        return names;
    }

    private static string Indent(string text) => string.Join('\n', text.Split('\n').Select(l => "  " + l));
}
