// CurlMover.cs - curl downloading the 1 GB file over HTTP from nginx.
using System.Globalization;

namespace LaneShim.Lab.Demo.Movers;

/// <summary>
/// curl from nginx (sendfile) in the server namespace. Goodput is curl's own report (size_download / time_total);
/// curl's --max-time enforces the time limit so a stopped run still reports what arrived. In laneshim mode nginx runs
/// under `laneshim run` too: the master's listening socket and the forked worker's accepted one get lanes, and the
/// worker's end (the sender) joins curl's lease. curl has no socket-buffer option, so hand-tuned is what an administrator can do around it: nginx's own
/// `listen ... sndbuf=` at the BDP, and curl on receive autotuning (tcp_rmem's maximum is above the BDP here).
/// </summary>
internal sealed class CurlMover : FileMover
{
    private const int Port = 8080;
    private static readonly DemoTool Curl = new("/usr/bin/curl", "curl");
    private static readonly DemoTool Nginx = new("/usr/sbin/nginx", "nginx");

    public override string Name => "curl";

    public override IReadOnlyList<DemoTool> Tools => [Curl, Nginx];

    public override string ClientProgram => Curl.Path;

    public override DemoFile Source(DemoContext context) => context.LargeFile;

    public override string Describe(DemoContext context) => $"curl: downloads {Source(context).Size} over HTTP from nginx";

    public override void Prepare(DemoContext context, CleanupStack cleanup)
    {
        string dir = context.MoverDirectory(Name);
        Directory.CreateDirectory(Path.Combine(dir, "temp"));
        WriteConfig(context, Path.Combine(dir, "nginx.conf"), "");
        WriteConfig(context, Path.Combine(dir, "nginx-tuned.conf"), $" sndbuf={DemoFormat.Invariant(context.BdpBytes)}");
    }

    private static void WriteConfig(DemoContext context, string file, string listenOptions)
    {
        string dir = Path.GetDirectoryName(file)!;
        File.WriteAllText(file, $$"""
            # nginx for the LaneShim demo: one worker serving the data directory.
            worker_processes 1;
            user root;
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                sendfile on;
                client_body_temp_path {{dir}}/temp/body;
                proxy_temp_path {{dir}}/temp/proxy;
                fastcgi_temp_path {{dir}}/temp/fastcgi;
                uwsgi_temp_path {{dir}}/temp/uwsgi;
                scgi_temp_path {{dir}}/temp/scgi;
                server {
                    listen {{context.ServerAddress}}:{{Port}}{{listenOptions}};
                    root {{context.DataDirectory}};
                }
            }

            """);
    }

    public override DemoServerSpec Server(DemoMode mode, DemoContext context)
    {
        string dir = context.MoverDirectory(Name);
        string config = Path.Combine(dir, mode == DemoMode.HandTuned ? "nginx-tuned.conf" : "nginx.conf");
        return new("nginx", [Nginx.Path, "-c", config, "-p", dir, "-e", Path.Combine(dir, "error.log"), "-g", "daemon off;"], Port);
    }

    public override IReadOnlyList<string> Client(DemoMode mode, DemoContext context)
    {
        DemoFile source = Source(context);
        return [Curl.Path, "-sS", "--max-time", DemoFormat.Fixed(MaxTime(mode, context).TotalSeconds, 0), "-o", Destination(context, source),
            "-w", "%{size_download} %{time_total}\n", $"http://{context.ServerAddress}:{Port}/{Path.GetFileName(source.Path)}"];
    }

    public override string Setup(DemoMode mode, DemoContext context) => mode switch
    {
        DemoMode.Laneshim => "curl and nginx (master and worker) under laneshim run",
        DemoMode.HandTuned => $"nginx listen sndbuf={DemoFormat.Invariant(context.BdpBytes)} (the BDP); curl has no buffer option (receive autotuning), on the bypass",
        _ => "",
    };

    /// <summary>curl's own --max-time ends the run; the demo's limit is only a backstop behind it.</summary>
    public override TimeSpan Limit(DemoMode mode, DemoContext context) => MaxTime(mode, context) + TimeSpan.FromSeconds(5);

    private TimeSpan MaxTime(DemoMode mode, DemoContext context) => base.Limit(mode, context);

    public override Goodput Measure(DemoMode mode, ClientOutcome outcome, DemoContext context)
    {
        DemoFile source = Source(context);
        string[] report = outcome.Stdout.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (report.Length != 2 || !long.TryParse(report[0], CultureInfo.InvariantCulture, out long bytes)
            || !double.TryParse(report[1], CultureInfo.InvariantCulture, out double seconds))
        {
            return base.Measure(mode, outcome, context); // no report: count bytes on disk over wall time
        }
        double mbps = Mbps(bytes, seconds);
        return outcome.ExitCode switch
        {
            0 when bytes == source.Bytes => new Goodput(true, mbps, seconds, $"curl: {DemoFormat.Bytes(bytes)} in {DemoFormat.Seconds(seconds)}"),
            28 when bytes > 0 => new Goodput(true, mbps, seconds, $"curl --max-time stopped it after {DemoFormat.Bytes(bytes)} of {source.Size}", TimeLimited: true),
            _ => Goodput.Failed($"exit {outcome.ExitCode} after {DemoFormat.Bytes(bytes)}: {outcome.LastWords()}", seconds),
        };
    }
}
