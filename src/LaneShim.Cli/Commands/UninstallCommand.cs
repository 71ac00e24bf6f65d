// UninstallCommand.cs - `laneshim uninstall --site`: take LaneShim out of every process and put back every file it replaced.
using System.CommandLine;
using LaneShim.Cli.Site;

namespace LaneShim.Cli.Commands;

/// <summary>Builds the `uninstall` verb.</summary>
internal static class UninstallCommand
{
    public static Command Create()
    {
        var site = new Option<bool>("--site") { Description = "Undo `laneshim install --site`: the preload entry first, then every file back to what it was." };
        var root = new Option<string>("--root") { Description = "The directory the install went into.", DefaultValueFactory = _ => "/" };
        var cmd = new Command("uninstall", "Remove a site-wide install, restoring every file it created or replaced.") { site, root };
        cmd.SetAction(parse =>
        {
            if (!parse.GetValue(site))
            {
                return Cli.Fail("laneshim uninstall: say --site");
            }
            try
            {
                SiteUninstaller.Uninstall(new SiteLayout(parse.GetValue(root)!), Console.Out);
                return 0;
            }
            catch (SiteException e)
            {
                return Cli.Fail(e.Message, 1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Cli.Fail($"laneshim uninstall: {e.Message}; run it again once fixed: what is restored stays restored", 1);
            }
        });
        return cmd;
    }
}
