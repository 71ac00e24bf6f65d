// RunCommand.cs - `laneshim run`: run an unmodified program with the shim preloaded and a broker to ask.
using System.Collections;
using System.CommandLine;
using System.Runtime.InteropServices;
using LaneShim.Broker;
using LaneShim.Cli.Native;
using LaneShim.Cli.Site;
using Grpc.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Cli.Commands;

/// <summary>Builds the `run` verb.</summary>
internal static class RunCommand
{
    private static readonly TimeSpan ProbeDeadline = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan BpfScopeDeadline = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var broker = new Option<string?>("--broker") { Description = "Broker to ask (unix:/path or http://host:port). Default: $LANESHIM_BROKER, then unix:/run/laneshim/broker.sock; if none answers, an embedded broker runs for the life of the command." };
        var embedded = new Option<bool>("--embedded") { Description = "Always start an embedded broker serving the ad-hoc lane below, even if a site broker answers." };
        var bpf = new Option<bool>("--bpf") { Description = "Also give lanes in the kernel (BPF), for programs LD_PRELOAD cannot reach (static and Go binaries): the broker moves the command into its lane path's cgroup. Needs a broker started with --bpf, or root for an embedded one." };
        var lane = new LaneOptions();
        var logLevel = new Option<string?>("--log") { Description = "Shim and agent log level for the command: off, error, info, debug (to stderr, or $LANESHIM_LOG_FILE)." };
        var deadline = new Option<int?>("--deadline-ms") { Description = "The most a broker call may add to one connect (default 20)." };
        var command = new Argument<string[]>("command") { Arity = ArgumentArity.OneOrMore, Description = "The program and its arguments; put them after --." };
        var cmd = new Command("run", "Run a program under LaneShim: its TCP sockets get lanes before their first SYN.")
        {
            broker, embedded, bpf, logLevel, deadline, command,
        };
        lane.AddTo(cmd);
        cmd.SetAction((parse, ct) => RunAsync(parse, broker, embedded, bpf, lane, logLevel, deadline, command, ct));
        return cmd;
    }

    private static async Task<int> RunAsync(ParseResult parse, Option<string?> brokerOption, Option<bool> embeddedOption, Option<bool> bpfOption, LaneOptions lane,
        Option<string?> logOption, Option<int?> deadlineOption, Argument<string[]> commandArgument, CancellationToken ct)
    {
        string[] argv = parse.GetValue(commandArgument) ?? [];
        string libDir = PackageLayout.FindLibraries();
        string shim = Path.Combine(libDir, "liblaneshim.so");
        string agent = Path.Combine(libDir, "liblaneshim-agent.so");
        if (!File.Exists(shim) || !File.Exists(agent))
        {
            return Cli.Fail($"laneshim run: {shim} or {agent} is missing; run ./build.sh");
        }
        BrokerOptions options;
        try
        {
            options = lane.ToBrokerOptions(parse, policyFile: null);
        }
        catch (FormatException e)
        {
            return Cli.Fail($"laneshim run: {e.Message}");
        }

        bool useBpf = parse.GetValue(bpfOption);
        if (!parse.GetValue(embeddedOption) && AddressSpaceLimit() is ulong limit && limit < EmbeddedBrokerAddressSpace)
        {
            // Under a tight RLIMIT_AS (ulimit -v, a batch system's h_vmem) this process does as little as it can: no
            // probe and no embedded broker (each needs threads it may not get); it becomes the command, whose agent
            // asks the broker itself and fails open if none answers.
            Dictionary<string, string> direct = CommandEnvironment(shim, agent, ResolveBroker(parse.GetValue(brokerOption))!, parse, logOption, deadlineOption);
            if (useBpf)
            {
                // Entering the kernel path's cgroup is a broker call, and this path makes none.
                Cli.Warn("laneshim run: --bpf is not available under this address-space limit (RLIMIT_AS); running with the preload path alone");
            }
            if (argv.Length > 0 && ExecutableInspector.Warning(argv[0], Environment.GetEnvironmentVariable("PATH")) is { } staticWarning)
            {
                Cli.Warn(staticWarning);
            }
            ChildStartException failed = ChildProcess.Exec(argv, direct);
            Cli.Warn($"laneshim run: {failed.Message}");
            return failed.ExitCode;
        }

        if (useBpf && Libc.GetEuid() == 0)
        {
            // An embedded broker runs the kernel path too (root only); a site broker runs it when started with --bpf.
            options.Bpf = new LaneShim.Broker.Bpf.BpfLanePathOptions
            {
                LibraryDirectory = libDir,
                // The shim's own switch for loopback lanes decides for the kernel path too.
                IncludeLoopback = Environment.GetEnvironmentVariable("LANESHIM_INCLUDE_LOOPBACK") is "1" or "true" or "yes" or "on",
            };
        }

        using ILoggerFactory loggers = Cli.Loggers(parse.GetValue(logOption) is "debug" or "info" ? LogLevel.Information : LogLevel.Warning);
        BrokerServer? server = null;
        string brokerAddress;
        try
        {
            try
            {
                server = await ChooseBrokerAsync(parse.GetValue(brokerOption), parse.GetValue(embeddedOption), options, loggers, ct);
            }
            catch (LaneShim.Broker.Bpf.BpfException e)
            {
                // Fail open: without the kernel path the command still runs, with the preload path alone.
                Cli.Warn($"laneshim run: --bpf: {e.Message}; running without the kernel lane path");
                options.Bpf = null;
                server = await ChooseBrokerAsync(parse.GetValue(brokerOption), parse.GetValue(embeddedOption), options, loggers, ct);
            }
            brokerAddress = server?.Address.ToString() ?? ResolveBroker(parse.GetValue(brokerOption))!;
        }
        catch (Exception e) when (e is OutOfMemoryException or InsufficientMemoryException or System.ComponentModel.Win32Exception)
        {
            // Under an address-space limit (ulimit -v, a batch system's h_vmem) the command still runs: without lanes.
            Cli.Warn($"laneshim run: no broker answers and there is no memory for an embedded one ({e.Message}); running {argv[0]} without lanes");
            brokerAddress = ResolveBroker(parse.GetValue(brokerOption))!;
        }
        await using BrokerServer? owned = server;
        if (useBpf)
        {
            await EnterBpfScopeAsync(brokerAddress, ct);
        }

        Dictionary<string, string> env = CommandEnvironment(shim, agent, brokerAddress, parse, logOption, deadlineOption);

        // Signals sent to us go to the command. Handlers are in place before the command starts, so a signal
        // that arrives while it is starting is delivered as soon as it runs. SIGINT/SIGQUIT from a terminal
        // already reach the whole process group, so for those we only stay alive to clean up after the command.
        var forwarder = new SignalForwarder();
        var registrations = new List<PosixSignalRegistration>
        {
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; forwarder.Send(15); }),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; forwarder.Send(1); }),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true),
            PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true),
        };
        // A static or Go program never calls libc's connect: say so once, then run it anyway (fail open).
        if (!useBpf && argv.Length > 0 && OperatingSystem.IsLinux() && ExecutableInspector.Warning(argv[0], Environment.GetEnvironmentVariable("PATH")) is { } warning)
        {
            Cli.Warn(warning);
        }
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(argv, env);
        }
        catch (ChildStartException e)
        {
            registrations.ForEach(r => r.Dispose());
            Cli.Warn($"laneshim run: {e.Message}");
            return e.ExitCode;
        }
        forwarder.Attach(child);
        int status = await Task.Factory.StartNew(child.Wait, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        foreach (PosixSignalRegistration r in registrations)
        {
            r.Dispose();
        }
        return ChildProcess.Mirror(status);
    }

    /// <summary>Ours, with the shim first in LD_PRELOAD, the broker and agent to use, and the run's log and deadline settings.</summary>
    private static Dictionary<string, string> CommandEnvironment(string shim, string agent, string brokerAddress, ParseResult parse,
        Option<string?> logOption, Option<int?> deadlineOption)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value ?? "";
        }
        env["LD_PRELOAD"] = PrependPreload(shim, env.GetValueOrDefault("LD_PRELOAD"));
        env["LANESHIM_BROKER"] = brokerAddress;
        env["LANESHIM_AGENT"] = agent;
        env.Remove("LANESHIM_DISABLE");
        if (parse.GetValue(logOption) is { } level)
        {
            env["LANESHIM_LOG"] = level;
        }
        if (parse.GetValue(deadlineOption) is { } ms)
        {
            env["LANESHIM_DEADLINE_MS"] = ms.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return env;
    }

    // Asks the broker to move this process into its kernel lane path's cgroup; the command inherits it. Fails open.
    private static async Task EnterBpfScopeAsync(string broker, CancellationToken ct)
    {
        if (!BrokerAddress.TryParse(broker, out BrokerAddress? address, out string error) || address is null)
        {
            Cli.Warn($"laneshim run: --bpf: broker {broker}: {error}; running without the kernel lane path");
            return;
        }
        if (address.Kind != BrokerAddressKind.Unix)
        {
            Cli.Warn($"laneshim run: --bpf needs a local broker on a Unix socket (the kernel names the caller there), not {broker}; running without the kernel lane path");
            return;
        }
        try
        {
            using BrokerChannel channel = BrokerChannel.Open(address);
            var scope = new BpfScope.BpfScopeClient(channel.Channel);
            BpfScopeReply reply = await scope.EnterAsync(new BpfScopeRequest(), deadline: DateTime.UtcNow + BpfScopeDeadline, cancellationToken: ct);
            if (Environment.GetEnvironmentVariable("LANESHIM_LOG") is "info" or "debug")
            {
                Cli.Warn($"laneshim run: --bpf: in {reply.Cgroup}");
            }
        }
        catch (RpcException e)
        {
            Cli.Warn($"laneshim run: --bpf: the broker refused ({e.StatusCode}): {e.Status.Detail}; running without the kernel lane path");
        }
    }

    /// <summary>The site broker if one answers (and --embedded was not given); otherwise a fresh embedded broker.</summary>
    private static async Task<BrokerServer?> ChooseBrokerAsync(string? explicitBroker, bool embedded, BrokerOptions options, ILoggerFactory loggers, CancellationToken ct)
    {
        string? candidate = ResolveBroker(explicitBroker);
        if (!embedded && candidate is not null && Answers(candidate))
        {
            return null;
        }
        if (AddressSpaceLimit() is ulong limit && limit < EmbeddedBrokerAddressSpace)
        {
            // A broker is a server with threads, each reserving stack and malloc arena: under a tight RLIMIT_AS it
            // would take the command's room, or fail halfway. The command runs without lanes instead.
            throw new InsufficientMemoryException(
                $"RLIMIT_AS is {limit >> 20} MiB; an embedded broker needs {EmbeddedBrokerAddressSpace >> 20} MiB of address space");
        }
        if (!embedded && explicitBroker is not null)
        {
            Cli.Warn($"laneshim run: broker {explicitBroker} does not answer; starting an embedded broker");
        }
        string dir = Path.Combine(Path.GetTempPath(), $"laneshim-run-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(dir);
        BrokerAddress listen = BrokerAddress.Parse($"unix:{Path.Combine(dir, "broker.sock")}");
        try
        {
            return await BrokerServer.StartAsync(listen, options, loggers, ct, ownedDirectory: dir);
        }
        catch
        {
            // The broker owns the directory only once it runs; a refused start (--bpf on a host that cannot) leaves none.
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    // Measured: the CLI with an embedded broker maps ~3.5 GiB (17 threads with their stacks and malloc arenas, the
    // JIT's code reservation) even with its 256 MiB GC region range.
    private const ulong EmbeddedBrokerAddressSpace = 8UL << 30;

    private static unsafe ulong? AddressSpaceLimit()
    {
        ulong* limits = stackalloc ulong[2];
        return Libc.GetRLimit(Libc.RLIMIT_AS, limits) == 0 && limits[0] != Libc.RlimInfinity ? limits[0] : null;
    }

    private static string? ResolveBroker(string? explicitBroker) =>
        explicitBroker ?? Environment.GetEnvironmentVariable("LANESHIM_BROKER") ?? BrokerAddress.Default;

    private static bool Answers(string broker)
    {
        if (!BrokerAddress.TryParse(broker, out BrokerAddress? address, out _) || address is null)
        {
            return false;
        }
        if (address.Kind == BrokerAddressKind.Unix && !File.Exists(address.UnixPath))
        {
            return false;
        }
        try
        {
            // An https:// broker answers only a client with a certificate: the one the agent will use.
            using var channel = BrokerChannel.Open(address, address.Tls ? ClientTls.OptionsFromEnvironment() : null);
            channel.Client.ListLeases(new ListLeasesRequest(), deadline: DateTime.UtcNow + ProbeDeadline);
            return true;
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Puts the shim first in LD_PRELOAD, keeping what was there and not adding it twice.</summary>
    internal static string PrependPreload(string shim, string? existing)
    {
        IEnumerable<string> rest = (existing ?? "").Split([' ', ':'], StringSplitOptions.RemoveEmptyEntries).Where(p => p != shim);
        return string.Join(' ', new[] { shim }.Concat(rest));
    }
}
