// SmokeTest.cs - before the shim goes into /etc/ld.so.preload, prove in child processes that it changes nothing a program shows.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LaneShim.Cli.Site;

/// <summary>
/// Runs a few programs plainly and with LD_PRELOAD=shim, and compares exit code and stdout. A shim that crashes,
/// prints, or fails to load at all (ld.so only warns on stderr and goes on) would, once in ld.so.preload, break or
/// silently miss every program on the host; here it only stops the install.
/// </summary>
internal static class SmokeTest
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Null when the shim passes; otherwise what differed, for the refusal message.</summary>
    public static string? Run(string shimPath, string agentPath)
    {
        string dir = Directory.CreateTempSubdirectory("laneshim-smoke-").FullName;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        try
        {
            // The shim as it will be installed: the agent next to it, an empty config, a broker that is not there
            // (connects must fail open) and loopback included so the connect really goes through the agent.
            string shim = Path.Combine(dir, "liblaneshim.so");
            File.Copy(shimPath, shim);
            File.Copy(agentPath, Path.Combine(dir, "liblaneshim-agent.so"));
            string config = Path.Combine(dir, "client.conf");
            File.WriteAllText(config, "");
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _ = AcceptAllAsync(listener);

            var cases = new List<SmokeCase>
            {
                new("/bin/true", ["/bin/true"]),
                new("/bin/sh -c 'echo ok'", ["/bin/sh", "-c", "echo ok; exit 3"]),
            };
            if (File.Exists("/bin/bash"))
            {
                cases.Add(new("a TCP connect from bash", ["/bin/bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"]));
            }
            var withShim = new Dictionary<string, string>
            {
                ["LD_PRELOAD"] = shim,
                ["LANESHIM_CONFIG"] = config,
                ["LANESHIM_BROKER"] = $"unix:{Path.Combine(dir, "no-broker.sock")}",
                ["LANESHIM_INCLUDE_LOOPBACK"] = "1",
            };
            foreach (SmokeCase c in cases)
            {
                (int Code, string Out, string Err) plain = Exec(c.Argv, null);
                (int Code, string Out, string Err) shimmed = Exec(c.Argv, withShim);
                if (plain.Code != shimmed.Code || plain.Out != shimmed.Out)
                {
                    return $"{c.Name}: without the shim exit {plain.Code} and stdout '{Short(plain.Out)}', with it exit {shimmed.Code} and stdout '{Short(shimmed.Out)}'" +
                        (shimmed.Err.Length > 0 ? $" (stderr: {Short(shimmed.Err)})" : "");
                }
            }
            (int code, string maps, string err) = Exec(["/bin/cat", "/proc/self/maps"], withShim);
            if (code != 0 || !maps.Contains(shim, StringComparison.Ordinal))
            {
                return $"the shim was not loaded into a child process (exit {code}{(err.Length > 0 ? $", stderr: {Short(err)}" : "")})";
            }
            return null;
        }
        finally
        {
            listener.Stop();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task AcceptAllAsync(TcpListener listener)
    {
        try
        {
            while (true)
            {
                using TcpClient c = await listener.AcceptTcpClientAsync();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    private static (int Code, string Out, string Err) Exec(string[] argv, IDictionary<string, string>? extra)
    {
        var psi = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in argv.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }
        foreach (string key in psi.Environment.Keys.Where(k => k == "LD_PRELOAD" || k.StartsWith("LANESHIM_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }
        foreach ((string k, string v) in extra ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, stdout.Result, "timed out after 30 s; " + stderr.Result);
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Short(string s)
    {
        s = s.Trim().Replace('\n', ' ');
        return s.Length <= 160 ? s : s[..160] + "...";
    }
}
