// LabCommand.cs - `laneshim-lab lab up|down|status|topology`: the emulated campus WAN (client, edge routers, middlebox, bypass, server) in network namespaces.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LaneShim.Lab.Lab;
using static LaneShim.Cli.Cli;

namespace LaneShim.Lab.Commands;

/// <summary>Builds the `lab` verb and its subcommands.</summary>
internal static class LabCommand
{
    /// <summary>Done: the lab is up, down, or healthy.</summary>
    public const int ExitOk = 0;

    /// <summary>The lab could not be built or removed, or (status) is not up or not healthy.</summary>
    public const int ExitFailed = 1;

    /// <summary>A flag's value is wrong.</summary>
    public const int ExitUsage = 2;

    public static Command Create()
    {
        var lab = new Command("lab",
            "An emulated campus WAN in network namespaces: client - edgea - {path 1: emulated link, middlebox firewall | " +
            "path 2: emulated bypass link} - edgeb - server. Needs root.")
        {
            CreateUp(),
            CreateDown(),
            CreateStatus(),
            CreateTopology(),
        };
        return lab;
    }

    private static Command CreateUp()
    {
        var lab = new LabOptions();
        var linkemu = new Option<string?>("--linkemu") { Description = $"The link emulator binary (default: ${LinkemuLocator.EnvironmentVariable}, next to laneshim-lab, or the source tree's build)." };
        var force = new Option<bool>("--force") { Description = "Tear down a lab of the same name first instead of refusing." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines on stderr." };
        var cmd = new Command("up", "Build the lab, start its link emulators, and check both paths with ping. Exit status: 0 up, 1 failed (nothing is left behind), 2 bad flags.");
        lab.AddTo(cmd);
        cmd.Add(linkemu);
        cmd.Add(force);
        cmd.Add(quiet);
        cmd.SetAction(parse =>
        {
            LabSettings settings;
            try
            {
                settings = lab.ToSettings(parse);
            }
            catch (FormatException e)
            {
                return Fail($"laneshim-lab lab up: {e.Message}", ExitUsage);
            }
            return Up(settings, parse.GetValue(linkemu), parse.GetValue(force), parse.GetValue(quiet) ? TextWriter.Null : Console.Error);
        });
        return cmd;
    }

    private static Command CreateTopology()
    {
        var lab = new LabOptions();
        var cmd = new Command("topology", "Print the topology file (for the broker) of the lab these flags describe, without building it. Needs no privileges.");
        lab.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            LabSettings settings;
            try
            {
                settings = lab.ToSettings(parse);
            }
            catch (FormatException e)
            {
                return Fail($"laneshim-lab lab topology: {e.Message}", ExitUsage);
            }
            Console.Out.Write(LabTopology.Render(LabPlanner.Plan(settings, LinkemuLocator.Program, "ip", DateTimeOffset.UtcNow)));
            return ExitOk;
        });
        return cmd;
    }

    private static int Up(LabSettings settings, string? linkemuFlag, bool force, TextWriter progress)
    {
        if (!ProcessTable.IsRoot)
        {
            return Fail("laneshim-lab lab up: needs root (network namespaces, TUN devices, nftables)", ExitFailed);
        }
        var sw = Stopwatch.StartNew();
        try
        {
            string linkemu = LinkemuLocator.Find(linkemuFlag);
            string ip = LabTools.Ip;
            _ = LabTools.Nft;
            _ = LabTools.Sysctl;
            _ = LabTools.Ping;
            if (Existing(settings.Name) is string existing)
            {
                if (!force)
                {
                    return Fail($"laneshim-lab lab up: lab '{settings.Name}' already exists ({existing}); run `laneshim-lab lab down --name {settings.Name}` first, or add --force to recreate it", ExitFailed);
                }
                progress.WriteLine($"lab {settings.Name}: --force: tearing down the existing lab ({existing})");
                LabTeardownResult down = LabTeardown.Down(settings.Name);
                if (down.Problems.Count > 0)
                {
                    return Fail($"laneshim-lab lab up: could not remove the existing lab: {string.Join("; ", down.Problems)}", ExitFailed);
                }
            }
            LabState plan = LabPlanner.Plan(settings, linkemu, ip, DateTimeOffset.UtcNow);
            // Ctrl-C or SIGTERM while building: stop at the next step and remove what was built, not leave half a lab.
            using var interrupt = new CancellationTokenSource();
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; interrupt.Cancel(); });
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; interrupt.Cancel(); });
            LabState state = new LabBuilder(plan, progress, interrupt.Token).Up();
            LabStatusText.Write(Console.Out, LabStatus.Gather(state.Name));
            Console.Out.WriteLine($"lab {state.Name} up in {sw.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s; state: {LabState.FileFor(state.Name)}");
            return ExitOk;
        }
        catch (LabException e)
        {
            return Fail($"laneshim-lab lab up: {e.Message}", ExitFailed);
        }
    }

    /// <summary>What shows that a lab of this name exists, or null.</summary>
    private static string? Existing(string name)
    {
        if (Directory.Exists(LabState.DirectoryFor(name)))
        {
            return $"{LabState.DirectoryFor(name)} exists";
        }
        IReadOnlySet<string> present = LabTools.Namespaces();
        List<string> found = LabNamespaces.For(name).All.Where(present.Contains).ToList();
        return found.Count > 0 ? $"namespaces {string.Join(", ", found)} exist" : null;
    }

    private static Command CreateDown()
    {
        var name = LabOptions.NameOption();
        var cmd = new Command("down",
            "Stop the lab's emulators and every process in its namespaces, delete the namespaces and the state directory. " +
            "Idempotent, and works after a crash (it finds everything by name). Exit status: 0 nothing is left, 1 something could not be removed.")
        {
            name,
        };
        cmd.SetAction(parse =>
        {
            string lab = parse.GetValue(name)!;
            if (!ProcessTable.IsRoot)
            {
                return Fail("laneshim-lab lab down: needs root", ExitFailed);
            }
            var sw = Stopwatch.StartNew();
            try
            {
                LabTeardownResult r = LabTeardown.Down(lab);
                string took = sw.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
                if (r.Problems.Count > 0)
                {
                    return Fail($"laneshim-lab lab down: lab {lab} is not fully removed:\n  {string.Join("\n  ", r.Problems)}", ExitFailed);
                }
                Console.Out.WriteLine(r.FoundAnything
                    ? $"lab {lab} down in {took} s: stopped {r.StoppedProcesses} process(es), deleted {r.DeletedNamespaces} namespace(s){(r.HadState ? " and the state directory" : " (there was no state directory)")}"
                    : $"lab {lab} is not up; nothing to do");
                return ExitOk;
            }
            catch (LabException e)
            {
                return Fail($"laneshim-lab lab down: {e.Message}", ExitFailed);
            }
        });
        return cmd;
    }

    private static Command CreateStatus()
    {
        var name = LabOptions.NameOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON document (with the full lab.json as \"state\") instead of tables." };
        var cmd = new Command("status", "Show the lab's namespaces, links (rate, RTT, loss, queue), emulators and counters. Exit status: 0 up and healthy, 1 not up or not healthy.")
        {
            name, json,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                LabStatusReport report = LabStatus.Gather(parse.GetValue(name)!);
                if (parse.GetValue(json))
                {
                    using Stream stdout = Console.OpenStandardOutput();
                    LabStatusJson.Write(stdout, report);
                    stdout.WriteByte((byte)'\n');
                }
                else
                {
                    LabStatusText.Write(Console.Out, report);
                }
                return report.Healthy ? ExitOk : ExitFailed;
            }
            catch (LabException e)
            {
                return Fail($"laneshim-lab lab status: {e.Message}", ExitFailed);
            }
        });
        return cmd;
    }
}
