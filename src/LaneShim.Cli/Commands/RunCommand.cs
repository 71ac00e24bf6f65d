// RunCommand.cs - `laneshim run`: run an unmodified program with the shim preloaded and a broker to ask.
using System.Collections;
using System.CommandLine;
using System.Runtime.InteropServices;
using LaneShim.Broker;
using LaneShim.Cli.Native;
using LaneShim.Cli.Site;
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
        string libDir = Cli.LibraryDirectory;
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
        BrokerServer? server;
        try
        {
            server = await ChooseBrokerAsync(parse.GetValue(brokerOption), parse.GetValue(embeddedOption), options, loggers, ct);
        }
        catch (LaneShim.Broker.Bpf.BpfException e)
        {
            // Fail open: without the kernel path the command still runs, with the preload path alone.
            Console.Error.WriteLine($"laneshim run: --bpf: {e.Message}; running without the kernel lane path");
            options.Bpf = null;
            server = await ChooseBrokerAsync(parse.GetValue(brokerOption), parse.GetValue(embeddedOption), options, loggers, ct);
        }
        await using BrokerServer? ownedServer = server;
        string brokerAddress = server?.Address.ToString() ?? ResolveBroker(parse.GetValue(brokerOption))!;
        if (useBpf)
        {
            await EnterBpfScopeAsync(brokerAddress, ct);
        }

        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
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
            Console.Error.WriteLine(warning);
        }
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(argv, env);
        }
        catch (ChildStartException e)
        {
            registrations.ForEach(r => r.Dispose());
            Console.Error.WriteLine($"laneshim run: {e.Message}");
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

    // Asks the broker to move this process into its kernel lane path's cgroup; the command inherits it. Fails open.
    private static async Task EnterBpfScopeAsync(string broker, CancellationToken ct)
    {
        if (!BrokerAddress.TryParse(broker, out BrokerAddress? address, out string error) || address is null)
        {
            Console.Error.WriteLine($"laneshim run: --bpf: broker {broker}: {error}; running without the kernel lane path");
            return;
        }
        if (address.Kind != BrokerAddressKind.Unix)
        {
            Console.Error.WriteLine($"laneshim run: --bpf needs a local broker on a Unix socket (the kernel names the caller there), not {broker}; running without the kernel lane path");
            return;
        }
        try
        {
            using var client = new GrpcClient(address, null);
            BpfScopeReply reply = await new LaneBrokerClient(client).EnterBpfScopeAsync(new BpfScopeRequest(), BpfScopeDeadline, ct);
            if (Environment.GetEnvironmentVariable("LANESHIM_LOG") is "info" or "debug")
            {
                Console.Error.WriteLine($"laneshim run: --bpf: in {reply.Cgroup}");
            }
        }
        catch (GrpcException e)
        {
            Console.Error.WriteLine($"laneshim run: --bpf: the broker refused ({e.StatusCode}): {e.Detail}; running without the kernel lane path");
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
        if (!embedded && explicitBroker is not null)
        {
            Console.Error.WriteLine($"laneshim run: broker {explicitBroker} does not answer; starting an embedded broker");
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
            using var client = new GrpcClient(address, address.Tls ? ClientTls.OptionsFromEnvironment() : null);
            new LaneBrokerClient(client).ListLeases(new ListLeasesRequest(), ProbeDeadline);
            return true;
        }
        catch (Exception e) when (e is GrpcException or InvalidOperationException)
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
