// Systemd.cs - tells a running systemd that unit files changed, and nothing when there is none (containers, staging roots).
using System.Diagnostics;

namespace LaneShim.Cli.Site;

/// <summary>`systemctl daemon-reload`, only for a live install on a host whose PID 1 is systemd.</summary>
internal static class Systemd
{
    public static void ReloadIfRunning(SiteLayout layout, TextWriter log)
    {
        string pid1;
        try
        {
            pid1 = File.ReadAllText("/proc/1/comm").Trim();
        }
        catch (IOException)
        {
            return;
        }
        if (!layout.IsLiveSystem || pid1 != "systemd")
        {
            return;
        }
        try
        {
            using Process? p = Process.Start(new ProcessStartInfo("systemctl", "daemon-reload") { UseShellExecute = false });
            p?.WaitForExit(30_000);
            log.WriteLine(p is { HasExited: true, ExitCode: 0 } ? "systemd reloaded" : "systemctl daemon-reload failed; run it by hand");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log.WriteLine($"systemctl daemon-reload: {e.Message}; run it by hand");
        }
    }
}
