// ScpMover.cs - scp pulling a 500 MB file from sshd, with a throwaway host key and client key.
namespace LaneShim.Lab.Demo.Movers;

/// <summary>
/// sshd on its own port in the server namespace, authorising only a key made for this run; the client ignores
/// every user file (-F /dev/null, its own key, no agent, no known_hosts). scp (SFTP protocol) is limited by ssh's
/// channel window: at most 2 MiB in flight per channel, whatever TCP allows.
/// </summary>
internal sealed class ScpMover : FileMover
{
    private const int Port = 2222;
    private const long ChannelWindow = 2L << 20; // OpenSSH CHAN_SES_WINDOW_DEFAULT: 64 packets of 32 KiB
    private const string PrivsepDirectory = "/run/sshd";
    private static readonly DemoTool Scp = new("/usr/bin/scp", "openssh-client");
    private static readonly DemoTool KeyGen = new("/usr/bin/ssh-keygen", "openssh-client");
    private static readonly DemoTool Sshd = new("/usr/sbin/sshd", "openssh-server");

    public override string Name => "scp";

    public override IReadOnlyList<DemoTool> Tools => [Scp, KeyGen, Sshd];

    public override string ClientProgram => Scp.Path;

    // At the lane's rate ssh's window allows about 400 Mbit/s: the 1 GB file would take over 20 s.
    public override DemoFile Source(DemoContext context) => context.MediumFile;

    public override string Describe(DemoContext context) => $"scp: pulls {Source(context).Size} from sshd";

    public override void Prepare(DemoContext context, CleanupStack cleanup)
    {
        string dir = context.MoverDirectory(Name);
        foreach (string key in new[] { "host_key", "client_key" })
        {
            Lab.LabTools.Check($"ssh-keygen for the demo's {key}", KeyGen.Path, ["-q", "-t", "ed25519", "-N", "", "-C", $"laneshim-demo-{key}", "-f", Path.Combine(dir, key)]);
        }
        File.Copy(Path.Combine(dir, "client_key.pub"), Path.Combine(dir, "authorized_keys"));
        File.WriteAllText(Path.Combine(dir, "sshd_config"), $"""
            # sshd for the LaneShim demo: this run's keys only, nothing from the system's ssh configuration.
            Port {Port}
            ListenAddress {context.ServerAddress}
            HostKey {dir}/host_key
            PidFile {dir}/sshd.pid
            AuthorizedKeysFile {dir}/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            UseDNS no
            Subsystem sftp internal-sftp

            """);
        if (!Directory.Exists(PrivsepDirectory))
        {
            // sshd refuses to start without its privilege-separation directory (systemd-tmpfiles makes it on a real host).
            Directory.CreateDirectory(PrivsepDirectory);
            cleanup.Push($"remove {PrivsepDirectory}", () => Directory.Delete(PrivsepDirectory));
        }
    }

    public override DemoServerSpec Server(DemoMode mode, DemoContext context) =>
        new("sshd", [Sshd.Path, "-D", "-e", "-f", Path.Combine(context.MoverDirectory(Name), "sshd_config")], Port);

    public override IReadOnlyList<string> Client(DemoMode mode, DemoContext context)
    {
        string dir = context.MoverDirectory(Name);
        DemoFile source = Source(context);
        var argv = new List<string>
        {
            Scp.Path, "-q", "-F", "/dev/null", "-i", Path.Combine(dir, "client_key"), "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-P", DemoFormat.Invariant(Port),
        };
        if (mode == DemoMode.HandTuned)
        {
            argv.AddRange(["-c", "aes128-gcm@openssh.com", "-X", "nrequests=256", "-X", "buffer=262144"]);
        }
        argv.AddRange([$"root@{context.ServerAddress}:{source.Path}", Destination(context, source)]);
        return argv;
    }

    public override string Setup(DemoMode mode, DemoContext context) => mode switch
    {
        DemoMode.Laneshim => "scp (and its ssh child) and sshd (which forks and re-executes per connection) under laneshim run",
        DemoMode.HandTuned => "-c aes128-gcm@openssh.com -X nrequests=256 -X buffer=262144, on the bypass",
        _ => "",
    };

    public override ProtocolCap? Cap(DemoContext context)
    {
        double mbps = ChannelWindow * 8 / (context.RttMs / 1000) / 1e6;
        return new ProtocolCap(mbps, "ssh's 2 MiB channel window",
            $"ssh's channel window (2 MiB in flight per channel) caps scp at 2 MiB per RTT = {DemoFormat.Mbps(mbps)} at {DemoFormat.Fixed(context.RttMs)} ms, whatever the socket buffers; no scp flag raises it");
    }
}
