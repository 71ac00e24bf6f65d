// BrokerOptions.cs - how the broker gets its policy: a policy file, or one lane class from command-line flags.
using LaneShim.Broker.Leases;
using LaneShim.Core;

namespace LaneShim.Broker;

/// <summary>
/// Broker settings. With <see cref="PolicyFile"/> the broker decides by that file and the class settings below are
/// ignored. Without it (flag mode), <see cref="RateBps"/> and the other class settings make one lane class that every
/// flow matches (<see cref="Policy.SingleClass"/>).
/// </summary>
public sealed class BrokerOptions
{
    /// <summary>The policy file; null for flag mode.</summary>
    public string? PolicyFile { get; set; }

    /// <summary>Flag mode: the class name grants report.</summary>
    public string ClassName { get; set; } = "default";

    /// <summary>Flag mode: the lane rate in bits per second. Required in flag mode.</summary>
    public ulong? RateBps { get; set; }

    /// <summary>Flag mode: the RTT to size buffers for; null learns it per destination.</summary>
    public TimeSpan? Rtt { get; set; }

    /// <summary>Flag mode, learning: the RTT before a destination has a sample; null is <see cref="LaneClass.DefaultFallbackRtt"/>.</summary>
    public TimeSpan? FallbackRtt { get; set; }

    /// <summary>Flag mode: congestion control, e.g. "bbr"; empty leaves the system default.</summary>
    public string Congestion { get; set; } = string.Empty;

    /// <summary>Flag mode: DSCP, 0-63.</summary>
    public int Dscp { get; set; }

    /// <summary>Flag mode: also grant listening sockets (bulk receivers).</summary>
    public bool Bulk { get; set; }

    /// <summary>Flag mode: TCP_NOTSENT_LOWAT bytes; 0 leaves the kernel's.</summary>
    public long NotsentLowat { get; set; }

    /// <summary>Flag mode: lease length; null is <see cref="LaneClass.DefaultTtl"/>.</summary>
    public TimeSpan? Ttl { get; set; }

    /// <summary>The most leases held at once; more requests get RESOURCE_EXHAUSTED.</summary>
    public int MaxLeases { get; set; } = LeaseTable.DefaultCapacity;

    /// <summary>
    /// Where leases, link usage and topology versions are kept: "memory" (lost on exit), a SQLite file path, or
    /// PostgreSQL (a postgres:// URI or a Npgsql connection string) shared by several brokers. See <see cref="Storage.LeaseStores"/>.
    /// </summary>
    public string State { get; set; } = "memory";

    /// <summary>Reserve each lane's rate on every topology link of its path (see <see cref="Services.LaneBrokerService.ReserveLinks"/>).</summary>
    public bool LinkAdmission { get; set; }

    /// <summary>An already open store to use instead of opening <see cref="State"/> (benchmarks, tests); the server disposes it.</summary>
    public Storage.ILeaseStore? Store { get; set; }

    /// <summary>The path id grants carry (until the broker enforces paths).</summary>
    public string PathId { get; set; } = "default";

    /// <summary>The site topology file; null: no paths, no enforcement.</summary>
    public string? TopologyFile { get; set; }

    /// <summary>How lanes are enforced on the network: "linux-router" or "dry-run" (only with a topology).</summary>
    public string Enforcement { get; set; } = "dry-run";

    /// <summary>Where to serve Prometheus metrics over HTTP/1.1, e.g. http://127.0.0.1:9464; null: nowhere.</summary>
    public string? MetricsUrl { get; set; }

    /// <summary>Which path a lane takes: fastest, widest or shortest (always middlebox-free).</summary>
    public LaneShim.Core.Topology.PathMetric PathMetric { get; set; } = LaneShim.Core.Topology.PathMetric.Fastest;

    /// <summary>A TCP listener's certificate (PEM). A TCP listener needs it, <see cref="TlsKeyFile"/> and <see cref="ClientCaFile"/>.</summary>
    public string? TlsCertFile { get; set; }

    /// <summary>The private key of <see cref="TlsCertFile"/> (PEM).</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>The CA bundle (PEM) client certificates must chain to; their CN and DNS names are the principals policy matches.</summary>
    public string? ClientCaFile { get; set; }

    /// <summary>Where every decision is appended as a JSON line; null for no audit log.</summary>
    public string? AuditFile { get; set; }

    /// <summary>Prove each local caller's socket with pidfd_getfd before granting (default on).</summary>
    public bool ProveSockets { get; set; } = true;

    /// <summary>The kernel (BPF) lane path for programs the preload shim cannot see; null: none (root only).</summary>
    public Bpf.BpfLanePathOptions? Bpf { get; set; }

    /// <summary>Reads the topology file; throws <see cref="LaneShim.Core.Topology.TopologyException"/> with file:line.</summary>
    public LaneShim.Core.Topology.SiteTopology? LoadTopology() =>
        TopologyFile is null ? null : LaneShim.Core.Topology.TopologyParser.Parse(File.ReadAllText(TopologyFile), TopologyFile);

    /// <summary>Reads and parses the policy file, or builds the single flag-mode class.</summary>
    /// <exception cref="PolicyException">
    /// The file cannot be read or has mistakes (<c>file:line: what is wrong</c>), or a flag value is out of range
    /// (<c>(flags): what is wrong</c>), or there is neither a file nor a rate.
    /// </exception>
    public Policy LoadPolicy()
    {
        if (PolicyFile is not null)
        {
            string text;
            try
            {
                text = File.ReadAllText(PolicyFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new PolicyException(PolicyFile, 0, $"cannot read the policy file: {ex.Message}", ex);
            }

            return PolicyParser.Parse(text, PolicyFile, Identity.SystemAccounts.Load());
        }

        if (RateBps is not ulong rate)
        {
            throw new PolicyException(Policy.FlagsSource, 0, "no policy: give a policy file, or at least a rate (e.g. --rate 1gbit)");
        }

        var laneClass = new LaneClass
        {
            Name = ClassName,
            RateBps = rate,
            RttMode = Rtt is null ? RttMode.Learn : RttMode.Fixed,
            Rtt = Rtt ?? FallbackRtt ?? LaneClass.DefaultFallbackRtt,
            Congestion = Congestion,
            Dscp = Dscp,
            Bulk = Bulk,
            NotsentLowat = NotsentLowat,
            Ttl = Ttl ?? LaneClass.DefaultTtl,
        };
        if (laneClass.Validate() is string problem)
        {
            throw new PolicyException(Policy.FlagsSource, 0, problem);
        }

        return Policy.SingleClass(laneClass);
    }
}
