// InstallCommand.cs - `laneshim install --site`: put LaneShim in every process on this host, after a smoke test of the shim.
using System.CommandLine;
using LaneShim.Cli.Site;

namespace LaneShim.Cli.Commands;

/// <summary>Builds the `install` verb.</summary>
internal static class InstallCommand
{
    public static Command Create()
    {
        var site = new Option<bool>("--site") { Description = "Install for the whole host: libraries, CLI, /etc/laneshim examples, the broker's systemd unit, and the shim in /etc/ld.so.preload." };
        var root = new Option<string>("--root") { Description = "Install under this directory instead of / (staging, images, tests).", DefaultValueFactory = _ => "/" };
        // For tests and packagers: install these files instead of the ones next to this CLI.
        var shim = new Option<string?>("--shim") { Hidden = true };
        var agent = new Option<string?>("--agent") { Hidden = true };
        var cmd = new Command("install", "Install LaneShim site-wide; `laneshim uninstall --site` restores the previous state exactly.") { site, root, shim, agent };
        cmd.SetAction(parse =>
        {
            if (!parse.GetValue(site))
            {
                return Cli.Fail("laneshim install: say --site: it installs for every process on the host (use `laneshim run` for one program)");
            }
            string libDir = PackageLayout.FindLibraries();
            try
            {
                SiteInstaller.Install(new SiteLayout(parse.GetValue(root)!),
                    Path.GetFullPath(parse.GetValue(shim) ?? Path.Combine(libDir, "liblaneshim.so")),
                    Path.GetFullPath(parse.GetValue(agent) ?? Path.Combine(libDir, "liblaneshim-agent.so")),
                    AppContext.BaseDirectory, Console.Out);
                return 0;
            }
            catch (SiteException e)
            {
                return Cli.Fail(e.Message, 1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Cli.Fail($"laneshim install: {e.Message}; `laneshim uninstall --site` undoes what was done so far", 1);
            }
        });
        return cmd;
    }
}
