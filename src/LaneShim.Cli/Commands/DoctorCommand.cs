// DoctorCommand.cs - `laneshim doctor`: what on this host holds a lane below its rate, why, and the fix; --apply/--revert the sysctls.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;
using LaneShim.Cli.Doctor;
using LaneShim.Core;
using LaneShim.Core.Doctor;

namespace LaneShim.Cli.Commands;

/// <summary>Builds the `doctor` verb.</summary>
internal static class DoctorCommand
{
    /// <summary>Nothing limits throughput.</summary>
    public const int ExitOk = 0;

    /// <summary>At least one finding limits throughput.</summary>
    public const int ExitLimited = 1;

    /// <summary>A usage error: bad flags, an unreadable or malformed policy, an unknown destination.</summary>
    public const int ExitUsage = 2;

    /// <summary>--apply or --revert could not finish (a file or a live value could not be written).</summary>
    public const int ExitApplyFailed = 3;

    private const string AdHocLane = "ad-hoc";
    private const string DefaultSysctlDir = "/etc/sysctl.d";

    public static Command Create()
    {
        var lane = new Option<string?>("--lane") { Description = "The lane's rate, e.g. 1gbit, 10g (default: the egress interface's speed).", Arity = ArgumentArity.ZeroOrOne };
        var rtt = new Option<string?>("--rtt") { Description = "The lane's RTT, e.g. 40ms (default and 'learn': 100ms, the fallback a learning lane starts with).", Arity = ArgumentArity.ZeroOrOne };
        var cc = new Option<string?>("--cc") { Description = "The lane's congestion control, e.g. bbr (default: the system's).", Arity = ArgumentArity.ZeroOrOne };
        var policy = new Option<string?>("--policy") { Description = "Check every lane class of this policy file instead of --lane/--rtt/--cc.", Arity = ArgumentArity.ZeroOrOne };
        var dest = new Option<string[]>("--dest") { Description = "A peer address or host name to look up the egress route for; repeatable (default: the default route).", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of the table." };
        var apply = new Option<bool>("--apply") { Description = "Write the sysctl fixes to SYSCTL_DIR/90-laneshim.conf (the previous file is kept as a backup) and load them." };
        var revert = new Option<bool>("--revert") { Description = "Undo --apply: restore the previous file (or remove ours) and the previous live values." };
        var sysctlDir = new Option<string?>("--sysctl-dir") { Description = $"The sysctl.d directory for --apply and --revert (default {DefaultSysctlDir}).", Arity = ArgumentArity.ZeroOrOne };
        var stray = new Argument<string[]>("stray") { Arity = ArgumentArity.ZeroOrMore, Hidden = true };
        var cmd = new Command("doctor",
            "Check that this host lets lanes reach their rate: buffers against the BDP, window scaling, congestion control, pacing, " +
            "the egress interface, MPTCP; each finding with the arithmetic and the fix. " +
            "Exit status: 0 nothing limits throughput, 1 something does, 2 usage error, 3 --apply or --revert could not finish.")
        {
            lane, rtt, cc, policy, dest, json, apply, revert, sysctlDir, stray,
        };

        // Usage errors exit 2, so the parser must not reject anything itself (its errors exit 1): unknown words land
        // in the hidden argument and options without values parse as empty; Run rejects both.
        cmd.SetAction(parse => Run(parse, new Flags(lane, rtt, cc, policy, dest, json, apply, revert, sysctlDir, stray)));
        return cmd;
    }

    private static int Run(ParseResult parse, Flags flags)
    {
        string[] stray = [.. parse.UnmatchedTokens, .. parse.GetValue(flags.Stray) ?? []];
        if (stray.Length > 0)
        {
            return Usage($"unknown argument '{stray[0]}' (see laneshim doctor --help)");
        }

        foreach (Option<string?> option in new[] { flags.Lane, flags.Rtt, flags.Cc, flags.Policy, flags.SysctlDir })
        {
            if (parse.GetResult(option) is OptionResult r && r.Tokens.Count == 0)
            {
                return Usage($"{option.Name} needs a value");
            }
        }

        if (parse.GetResult(flags.Dest) is OptionResult destResult && destResult.Tokens.Count == 0)
        {
            return Usage("--dest needs an address or host name");
        }

        bool json = parse.GetValue(flags.Json);
        bool apply = parse.GetValue(flags.Apply);
        bool revert = parse.GetValue(flags.Revert);
        string sysctlDir = parse.GetValue(flags.SysctlDir) ?? DefaultSysctlDir;
        string[] destinations = parse.GetValue(flags.Dest) ?? [];
        bool laneFlags = parse.GetResult(flags.Lane) is not null || parse.GetResult(flags.Rtt) is not null || parse.GetResult(flags.Cc) is not null;
        bool policyFlag = parse.GetResult(flags.Policy) is not null;
        if (apply && revert)
        {
            return Usage("--apply and --revert cannot be combined");
        }

        if (revert && (laneFlags || policyFlag || destinations.Length > 0))
        {
            return Usage("--revert takes only --sysctl-dir and --json");
        }

        if (laneFlags && policyFlag)
        {
            return Usage("--policy checks the policy's lane classes; leave out --lane, --rtt and --cc");
        }

        if ((apply || revert) && !Directory.Exists(sysctlDir))
        {
            return Usage($"--sysctl-dir {sysctlDir}: no such directory");
        }

        var proc = new ProcSys();
        if (revert)
        {
            return Revert(new SysctlApplier(sysctlDir, proc), json);
        }

        IReadOnlyList<DoctorLane> lanes;
        IReadOnlyList<string> resolved;
        try
        {
            lanes = policyFlag ? PolicyLanes(parse.GetValue(flags.Policy)!) : [FlagLane(parse, flags)];
            resolved = destinations.Select(Resolve).ToArray();
        }
        catch (FormatException e)
        {
            return Usage(e.Message);
        }
        catch (PolicyException e)
        {
            return Cli.Fail(e.Message, ExitUsage);
        }

        DoctorReport report = HostDoctor.Examine(lanes, HostReader.Read(resolved, proc));
        SysctlFileOutcome? applied = null;
        if (apply)
        {
            try
            {
                applied = new SysctlApplier(sysctlDir, proc).Apply(report.Changes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                return Cli.Fail($"laneshim doctor --apply: {e.Message}", ExitApplyFailed);
            }

            report = HostDoctor.Examine(lanes, HostReader.Read(resolved, proc)); // judge the host as the fixes left it
        }

        int exit = applied?.AnyFailed == true ? ExitApplyFailed : report.LimitsThroughput ? ExitLimited : ExitOk;
        // Readiness of the kernel lane path: reported, never part of the exit status (it is about throughput).
        IReadOnlyList<BpfCheck> bpf = BpfReadiness.Examine(report.Host.KernelRelease, Cli.LibraryDirectory);
        if (json)
        {
            using Stream stdout = Console.OpenStandardOutput();
            DoctorJson.Write(stdout, report, applied, exit, bpf);
        }
        else
        {
            var text = new DoctorText(Console.Out, DoctorText.ShouldColor(), TerminalWidth());
            if (applied is not null)
            {
                text.WriteOutcome("applied", applied);
            }

            text.WriteReport(report, exit, sysctlDir);
            text.WriteBpf(bpf);
        }

        return exit;
    }

    private static int Revert(SysctlApplier applier, bool json)
    {
        SysctlFileOutcome outcome;
        try
        {
            outcome = applier.Revert();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return Cli.Fail($"laneshim doctor --revert: {e.Message}", ExitApplyFailed);
        }

        int exit = outcome.AnyFailed ? ExitApplyFailed : ExitOk;
        if (json)
        {
            using Stream stdout = Console.OpenStandardOutput();
            DoctorJson.WriteReverted(stdout, outcome, exit);
        }
        else
        {
            new DoctorText(Console.Out, DoctorText.ShouldColor(), TerminalWidth()).WriteOutcome("reverted", outcome);
        }

        return exit;
    }

    private static DoctorLane FlagLane(ParseResult parse, Flags flags)
    {
        ulong rate;
        if (parse.GetValue(flags.Lane) is string rateText)
        {
            if (!Units.TryParseRate(rateText, out rate, out string error))
            {
                throw new FormatException($"--lane: {error}");
            }

            if (rate == 0)
            {
                throw new FormatException("--lane: the rate must be more than 0");
            }
        }
        else
        {
            rate = EgressProbe.DefaultRate().RateBps;
        }

        var rtt = new RttChoice(LaneClass.DefaultFallbackRtt, RttSource.Fallback);
        if (parse.GetValue(flags.Rtt) is string rttText && !string.Equals(rttText, "learn", StringComparison.OrdinalIgnoreCase))
        {
            if (!Units.TryParseDuration(rttText, out TimeSpan value, out string error))
            {
                throw new FormatException($"--rtt: {error}");
            }

            if (value <= TimeSpan.Zero || value > LaneClass.MaxRtt)
            {
                throw new FormatException($"--rtt: {Units.FormatDuration(value)} is out of range (more than 0, at most 10 s)");
            }

            rtt = new RttChoice(value, RttSource.Fixed);
        }

        string congestion = parse.GetValue(flags.Cc) ?? "";
        if (congestion is "default")
        {
            congestion = "";
        }

        if (congestion.Length > 0 && !LaneClass.IsValidCongestionName(congestion))
        {
            throw new FormatException($"--cc: bad congestion control '{congestion}' (a kernel name such as cubic or bbr)");
        }

        return new DoctorLane(AdHocLane, rate, rtt, congestion);
    }

    private static IReadOnlyList<DoctorLane> PolicyLanes(string file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--policy: {e.Message}");
        }

        Policy policy = PolicyParser.Parse(text, file, LaneShim.Broker.Identity.SystemAccounts.Load());
        if (policy.Classes.Count == 0)
        {
            throw new FormatException($"--policy: {file} defines no lane class");
        }

        return policy.Classes.Values.OrderBy(c => c.Name, StringComparer.Ordinal).Select(DoctorLane.FromClass).ToArray();
    }

    private static string Resolve(string destination)
    {
        if (IPAddress.TryParse(destination, out IPAddress? address))
        {
            return address.ToString();
        }

        try
        {
            IPAddress[] found = Dns.GetHostAddresses(destination);
            return (found.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? found.FirstOrDefault())?.ToString()
                ?? throw new FormatException($"--dest {destination}: the name has no address");
        }
        catch (SocketException e)
        {
            throw new FormatException($"--dest {destination}: {e.Message}");
        }
    }

    // COLUMNS when the shell exports it; asking the console would switch the terminal's keypad mode as a side effect.
    private static int TerminalWidth() =>
        int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns > 0 ? columns : 100;

    private static int Usage(string message) => Cli.Fail($"laneshim doctor: {message}", ExitUsage);

    private sealed record Flags(
        Option<string?> Lane, Option<string?> Rtt, Option<string?> Cc, Option<string?> Policy, Option<string[]> Dest,
        Option<bool> Json, Option<bool> Apply, Option<bool> Revert, Option<string?> SysctlDir, Argument<string[]> Stray);
}
