// BrokerCommand.cs - `laneshim broker`: serve LaneBroker over HTTP/2 on a Unix socket, or on TCP with mutual TLS.
using System.CommandLine;
using System.Runtime.InteropServices;
using LaneShim.Broker;
using LaneShim.Broker.Identity;
using LaneShim.Core;
using LaneShim.Grpc;
using Microsoft.Extensions.Logging;

namespace LaneShim.Cli.Commands;

/// <summary>Builds the `broker` verb.</summary>
internal static class BrokerCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "Where to listen: unix:PATH or tcp:HOST:PORT.", DefaultValueFactory = _ => BrokerAddress.Default };
        var policy = new Option<string?>("--policy") { Description = "Policy file (rules to lane classes). Without it, one lane class from --rate/--rtt/--cc/--dscp serves every flow." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also log every grant and every rule a dry run would install (refusals are always logged; --audit records every decision)." };
        var topology = new Option<string?>("--topology") { Description = "Site topology file (nodes and links). With it, lanes are sized by their path and steered around middleboxes." };
        var enforce = new Option<string>("--enforce") { Description = "How lanes are enforced on the network: linux-router (nftables in each router's namespace) or dry-run (log only).", DefaultValueFactory = _ => "dry-run" };
        enforce.AcceptOnlyFromAmong("linux-router", "dry-run");
        var metric = new Option<string>("--path") { Description = "Which middlebox-free path a lane takes: fastest, widest or shortest.", DefaultValueFactory = _ => "fastest" };
        metric.AcceptOnlyFromAmong("fastest", "widest", "shortest");
        var state = new Option<string?>("--state")
        {
            Description = $"Where leases and link usage survive restarts: a SQLite file, 'memory', or postgres://... Default: {LaneShim.Broker.Storage.LeaseStores.DefaultSqlitePath} for the system broker (default --listen), memory otherwise.",
        };
        var postgres = new Option<string?>("--postgres") { Description = "Share state with other brokers in PostgreSQL: a connection string (Host=...;Database=...) or postgres:// URI." };
        var admission = new Option<string>("--admission")
        {
            Description = "What lanes reserve capacity on: class (only classes with capacity=) or links (also every topology link of the lane's path).",
            DefaultValueFactory = _ => "class",
        };
        admission.AcceptOnlyFromAmong("class", "links");
        var metrics = new Option<string?>("--metrics") { Description = "Also serve Prometheus metrics over plain HTTP/1.1 at this address, e.g. http://127.0.0.1:9464 (GET /metrics)." };
        var bpf = new Option<bool>("--bpf") { Description = "Also run the kernel (BPF) lane path for programs the preload shim cannot see (static and Go binaries): `laneshim run --bpf` puts a command in its cgroup. Root only; `laneshim doctor` says whether the host can." };
        var bpfCgroup = new Option<string[]>("--bpf-cgroup") { Description = "With --bpf: also give lanes to every process of this cgroup v2 (relative to the cgroup2 mount, e.g. system.slice/dtn.service); repeatable.", AllowMultipleArgumentsPerToken = false };
        var bpfLoopback = new Option<bool>("--bpf-loopback") { Description = "With --bpf: also give lanes to loopback flows (127.0.0.0/8, ::1), which the kernel path leaves alone by default, as the shim does." };
        var lane = new LaneOptions();
        var cmd = new Command("broker", "Run the lane broker.") { listen, policy, verbose, topology, enforce, metric, metrics, state, postgres, admission, bpf, bpfCgroup, bpfLoopback };
        var security = new BrokerSecurityOptions();
        security.AddTo(cmd);
        lane.AddTo(cmd);
        cmd.SetAction((parse, ct) => RunAsync(parse, listen, policy, verbose, lane, ct, topology, enforce, metric, metrics, security, state, postgres, admission, bpf, bpfCgroup, bpfLoopback));
        return cmd;
    }

    private static async Task<int> RunAsync(ParseResult parse, Option<string> listenOption, Option<string?> policyOption, Option<bool> verbose, LaneOptions lane, CancellationToken ct,
        Option<string?> topologyOption, Option<string> enforceOption, Option<string> metricOption, Option<string?> metricsOption, BrokerSecurityOptions security,
        Option<string?> stateOption, Option<string?> postgresOption, Option<string> admissionOption, Option<bool> bpfOption, Option<string[]> bpfCgroupOption, Option<bool> bpfLoopbackOption)
    {
        string listenText = parse.GetValue(listenOption)!;
        if (!BrokerAddress.TryParse(listenText, out BrokerAddress? listen, out string error) || listen is null)
        {
            return Cli.Fail($"laneshim broker: --listen {listenText}: {error}");
        }
        BrokerOptions options;
        try
        {
            options = lane.ToBrokerOptions(parse, parse.GetValue(policyOption));
            options.TopologyFile = parse.GetValue(topologyOption);
            options.Enforcement = parse.GetValue(enforceOption)!;
            options.PathMetric = Enum.Parse<LaneShim.Core.Topology.PathMetric>(parse.GetValue(metricOption)!, ignoreCase: true);
            options.MetricsUrl = parse.GetValue(metricsOption);
            if (options.MetricsUrl is not null && !LaneShim.Broker.Telemetry.MetricsEndpoint.TryParse(options.MetricsUrl, out _, out string metricsError))
            {
                return Cli.Fail($"laneshim broker: --metrics {options.MetricsUrl}: {metricsError}");
            }
            options.LinkAdmission = parse.GetValue(admissionOption) == "links";
            string[] siteCgroups = parse.GetValue(bpfCgroupOption) ?? [];
            if ((siteCgroups.Length > 0 || parse.GetValue(bpfLoopbackOption)) && !parse.GetValue(bpfOption))
            {
                return Cli.Fail("laneshim broker: --bpf-cgroup and --bpf-loopback need --bpf");
            }
            if (parse.GetValue(bpfOption))
            {
                options.Bpf = new LaneShim.Broker.Bpf.BpfLanePathOptions
                {
                    LibraryDirectory = Cli.LibraryDirectory,
                    SiteCgroups = siteCgroups,
                    IncludeLoopback = parse.GetValue(bpfLoopbackOption),
                };
            }
            string? stateText = parse.GetValue(stateOption), postgresText = parse.GetValue(postgresOption);
            if (stateText is not null && postgresText is not null)
            {
                return Cli.Fail("laneshim broker: give --state or --postgres, not both");
            }
            // Only the system broker owns the system state file: a test or a second broker must not share it by accident.
            options.State = postgresText ?? stateText
                ?? (listenText == BrokerAddress.Default ? LaneShim.Broker.Storage.LeaseStores.DefaultSqlitePath : "memory");
            options.LoadPolicy(); // fail now, with file:line, rather than on the first request
            options.LoadTopology();
            security.Apply(parse, listen, options);
            BrokerTls.Load(listen, options)?.ServerCertificate.Dispose(); // refuse now, with the reason, not at the first call
        }
        catch (InvalidOperationException e)
        {
            return Cli.Fail($"laneshim broker: {e.Message}");
        }
        catch (FormatException e)
        {
            return Cli.Fail($"laneshim broker: {e.Message}");
        }
        catch (PolicyException e)
        {
            return Cli.Fail(e.Message);
        }
        catch (LaneShim.Core.Topology.TopologyException e)
        {
            return Cli.Fail(e.Message);
        }
        catch (IOException e)
        {
            return Cli.Fail($"laneshim broker: {e.Message}");
        }
        using ILoggerFactory loggers = Cli.Loggers(parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information);
        // SIGTERM and SIGINT are ours before the broker starts: a stop that arrives while it starts (a service manager,
        // a test that kills it as soon as its socket appears) ends it as soon as it is up, never hangs it.
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        BrokerServer server;
        try
        {
            server = await BrokerServer.StartAsync(listen, options, loggers, ct);
        }
        catch (LaneShim.Broker.Storage.StateStoreException e)
        {
            return Cli.Fail($"laneshim broker: {e.Message}", 1);
        }
        catch (LaneShim.Broker.Bpf.BpfException e)
        {
            return Cli.Fail($"laneshim broker: --bpf: {e.Message}", 1);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            return Cli.Fail($"laneshim broker: cannot listen on {listen}: {e.Message}", 1);
        }
        await using (server)
        {
            // SIGHUP reloads the policy file and the topology file (as its next version); a bad file is refused with
            // file:line in the log and the running one stays.
            using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; _ = server.ReloadAsync(CancellationToken.None); });
            Console.Out.WriteLine($"laneshim broker listening on {server.Address}");
            if (server.MetricsUrl is not null)
            {
                Console.Out.WriteLine($"laneshim broker metrics on {server.MetricsUrl}");
            }
            Console.Out.Flush();
            await Task.WhenAny(stop.Task, Task.Delay(Timeout.Infinite, ct)).ConfigureAwait(false);
        }
        return 0;
    }
}
