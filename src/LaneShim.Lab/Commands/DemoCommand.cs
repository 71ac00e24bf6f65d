// DemoCommand.cs - `laneshim-lab demo`: legacy data movers plain, under laneshim run, and hand-tuned, over the emulated campus lab.
using System.CommandLine;
using System.Runtime.InteropServices;
using LaneShim.Lab.Demo;
using LaneShim.Lab.Demo.Movers;
using LaneShim.Lab.Lab;
using static LaneShim.Cli.Cli;

namespace LaneShim.Lab.Commands;

/// <summary>Builds the `demo` verb.</summary>
internal static class DemoCommand
{
    /// <summary>The demo's lab name (its own, torn down at the end).</summary>
    public const string DefaultLabName = "lsdemo";

    /// <summary>Every mover, in the order the demo runs them.</summary>
    public static IReadOnlyList<Mover> AllMovers() =>
    [
        new Iperf3Mover("iperf3-w64k", window: "64K"),
        new Iperf3Mover("iperf3", window: null),
        new CurlMover(),
        new RsyncMover(),
        new RsyncMover(push: true),
        new ScpMover(),
        new GridFtpMover(),
        new GridFtpMover(push: true),
        new XrootdMover(),
        new RcloneMover(),
    ];

    public static Command Create()
    {
        var lab = new LabOptions();
        lab.Name.DefaultValueFactory = _ => DefaultLabName;
        var policy = new Option<string?>("--policy") { Description = "The broker's policy file (default: demo/lanes.conf of the source tree)." };
        var output = new Option<string?>("--out") { Description = "Where results.json, results.md and throughput.png go (default: out/demo in the out/ tree laneshim-lab runs from)." };
        var movers = new Option<string?>("--movers") { Description = $"Only these movers, comma-separated ({string.Join(", ", AllMovers().Select(m => m.Name))})." };
        var plainLimit = new Option<int>("--plain-seconds") { Description = "Time limit of a plain file transfer; its goodput is what it moved by then.", DefaultValueFactory = _ => 15 };
        var iperfSeconds = new Option<int>("--iperf-seconds") { Description = "How long iperf3 sends (-t).", DefaultValueFactory = _ => 10 };
        var runLimit = new Option<int>("--run-seconds") { Description = "Time limit of every other run.", DefaultValueFactory = _ => 60 };
        var deadline = new Option<int>("--deadline-ms")
        {
            Description = "`laneshim run --deadline-ms` for every wrapped client and server (0: the shim's default, 20). A flow that " +
                "cannot wait for the agent's start gets its lane once the agent is ready.",
            DefaultValueFactory = _ => 0,
        };
        var workRoot = new Option<string?>("--work-dir") { Description = "Where the test data (1.5 GB) and the copies go (default: /dev/shm when it has room, else the temp directory)." };
        var cmd = new Command("demo",
            "Bring up the lab and a broker, run legacy data movers (iperf3, curl, rsync, scp, GridFTP, XRootD) plain, under " +
            "`laneshim run` and hand-tuned, print a table, write results.json and a chart, and tear everything down. Needs root. " +
            "Exit status: 0 the demo ran (missed targets are listed at the end), 1 setup failed, 2 bad flags, 130 interrupted.")
        {
            policy, output, movers, plainLimit, iperfSeconds, runLimit, deadline, workRoot,
        };
        lab.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            DemoSettings settings;
            IReadOnlyList<Mover> chosen;
            try
            {
                chosen = Choose(parse.GetValue(movers));
                settings = new DemoSettings
                {
                    Lab = lab.ToSettings(parse),
                    PolicyFile = PolicyFile(parse.GetValue(policy)),
                    OutputDirectory = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(AppContext.BaseDirectory, "..", "demo")),
                    Movers = chosen.Select(m => m.Name).ToList(),
                    PlainLimit = Seconds("--plain-seconds", parse.GetValue(plainLimit)),
                    IperfDuration = Seconds("--iperf-seconds", parse.GetValue(iperfSeconds)),
                    RunLimit = Seconds("--run-seconds", parse.GetValue(runLimit)),
                    DeadlineMs = parse.GetValue(deadline) is > 0 and var ms ? ms : null,
                    WorkRoot = parse.GetValue(workRoot) is string w ? Path.GetFullPath(w) : null,
                };
            }
            catch (FormatException e)
            {
                return Fail($"laneshim-lab demo: {e.Message}");
            }
            using var interrupt = new CancellationTokenSource();
            // Ctrl-C or SIGTERM: stop the current run, then tear everything down before exiting.
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; interrupt.Cancel(); });
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; interrupt.Cancel(); });
            using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; interrupt.Cancel(); });
            return new DemoRunner(settings, chosen, Console.Out, interrupt.Token).Run();
        });
        return cmd;
    }

    private static IReadOnlyList<Mover> Choose(string? list)
    {
        IReadOnlyList<Mover> all = AllMovers();
        if (string.IsNullOrWhiteSpace(list))
        {
            return all;
        }
        string[] names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] unknown = names.Where(n => all.All(m => m.Name != n)).ToArray();
        if (unknown.Length > 0)
        {
            throw new FormatException($"--movers: unknown mover(s) {string.Join(", ", unknown)} (known: {string.Join(", ", all.Select(m => m.Name))})");
        }
        return all.Where(m => names.Contains(m.Name)).ToList();
    }

    private static string PolicyFile(string? given)
    {
        // out/lab/laneshim-lab -> the source tree's demo/lanes.conf
        string path = Path.GetFullPath(given ?? Path.Combine(AppContext.BaseDirectory, "..", "..", "demo", "lanes.conf"));
        return File.Exists(path) ? path : throw new FormatException($"--policy: {path} does not exist");
    }

    private static TimeSpan Seconds(string flag, int value) =>
        value is >= 1 and <= 3600 ? TimeSpan.FromSeconds(value) : throw new FormatException($"{flag} {value}: 1 to 3600");
}
