// Program.cs - `laneshim`: the command-line entry point; each verb lives in Commands/.
using System.CommandLine;
using LaneShim.Cli.Commands;

namespace LaneShim.Cli;

internal static class Program
{
    public static Task<int> Main(string[] args) =>
        CreateRootCommand().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

    /// <summary>Every verb and option; the man pages are generated from it (src/LaneShim.ManPages).</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("LaneShim: give legacy data movers a tuned, privileged network lane without changing them.")
        {
            RunCommand.Create(),
            BrokerCommand.Create(),
            DoctorCommand.Create(),
            StatusCommand.Create(),
        };
        if (OperatingSystem.IsLinux())
        {
            root.Subcommands.Add(InstallCommand.Create());
            root.Subcommands.Add(UninstallCommand.Create());
        }
        return root;
    }
}
