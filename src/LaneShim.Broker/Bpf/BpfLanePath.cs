// BpfLanePath.cs - the broker's kernel lane path: loads and attaches the program, compiles the policy into its maps,
// and serves each connect report from the ring buffer through the grant path, ending the lease at close.
using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Google.Protobuf;
using LaneShim.Core;
using LaneShim.Broker.Identity;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Bpf;

/// <summary>
/// Owns the BPF lane path for one broker. The kernel tunes a socket from the maps before its SYN (connect) or on
/// accept, then reports it; this class runs the report through <see cref="IKernelFlowGrants"/> and tells the socket
/// the verdict through the verdicts map: admitted, the settings stay; refused (policy or admission), the program
/// reverts cc, pacing, DSCP, mark and priority at the socket's next RTT sample. At close the lease ends with the
/// flow's TCP stats. Disposing releases every lease it holds, detaches, unpins and removes its cgroups.
/// </summary>
public sealed class BpfLanePath : IAsyncDisposable
{
    private const int PollBatch = 64;
    private const int PollTimeoutMs = 100;
    private static readonly TimeSpan RunCgroupSweep = TimeSpan.FromSeconds(1);

    private readonly BpfProgram _program;
    private readonly PolicyStore _policies;
    private readonly IKernelFlowGrants _grants;
    private readonly ILogger _logger;
    private readonly List<int> _attachments = [];
    private readonly Channel<BpfEvent> _events = Channel.CreateUnbounded<BpfEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly ConcurrentDictionary<ulong, KernelLease> _flows = new();
    private readonly ConcurrentDictionary<string, RunCgroup> _runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _reader;
    private readonly Task _consumer;
    private readonly Timer _maintenance;
    private Policy _compiled;
    private BpfMapImage _image;
    private int _runSequence;
    private long _refused;
    private long _userTuned;
    private long _granted;

    private readonly bool _includeLoopback;

    private BpfLanePath(BpfProgram program, string cgroupRoot, string scope, PolicyStore policies, IKernelFlowGrants grants, ILogger logger, bool includeLoopback)
    {
        _includeLoopback = includeLoopback;
        _program = program;
        CgroupRoot = cgroupRoot;
        ScopeCgroup = scope;
        _policies = policies;
        _grants = grants;
        _logger = logger;
        _compiled = policies.Current;
        _image = Compile(_compiled);
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "laneshim-bpf-ring" };
        _consumer = Task.Run(ConsumeAsync);
        _maintenance = new Timer(_ => Maintain(), null, RunCgroupSweep, RunCgroupSweep);
    }

    /// <summary>The cgroup v2 mount.</summary>
    public string CgroupRoot { get; }

    /// <summary>The broker's own cgroup, attached, under which run cgroups are made.</summary>
    public string ScopeCgroup { get; }

    /// <summary>Where the maps are pinned, or null.</summary>
    public string? PinDirectory => _program.PinDirectory;

    /// <summary>Kernel-reported flows holding a lease now.</summary>
    public int LiveLeases => _flows.Count;

    /// <summary>Reports granted so far.</summary>
    public long Granted => Interlocked.Read(ref _granted);

    /// <summary>Reports refused so far (their sockets reverted).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Reports of sockets user space (the agent) had tuned, left alone.</summary>
    public long UserTuned => Interlocked.Read(ref _userTuned);

    /// <summary>The lane path's counters in the Prometheus text format, appended to the broker's /metrics.</summary>
    public string RenderMetrics()
    {
        var w = new Telemetry.PrometheusWriter();
        w.Family("laneshim_bpf_reports_total", "counter", "Connect and accept reports of the kernel lane path by outcome (granted, refused and reverted, left to user space's tuning).");
        w.Sample("laneshim_bpf_reports_total", Granted, ("result", "granted"));
        w.Sample("laneshim_bpf_reports_total", Refused, ("result", "refused"));
        w.Sample("laneshim_bpf_reports_total", UserTuned, ("result", "user_tuned"));
        w.Family("laneshim_bpf_active_leases", "gauge", "Leases the kernel lane path holds for open flows.");
        w.Sample("laneshim_bpf_active_leases", LiveLeases);
        return w.ToString();
    }

    /// <summary>
    /// Cleans up after killed brokers, loads the object, attaches it to the broker's own cgroup and to
    /// <see cref="BpfLanePathOptions.SiteCgroups"/>, writes the policy and starts serving reports.
    /// </summary>
    /// <exception cref="BpfException">The host cannot run the lane path; the message says what is missing.</exception>
    public static BpfLanePath Start(BpfLanePathOptions options, PolicyStore policies, IKernelFlowGrants grants, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(grants);
        ArgumentNullException.ThrowIfNull(logger);
        string root = Cgroup2.FindMount() ?? throw new BpfException("no cgroup v2 hierarchy is mounted (see /proc/self/mountinfo); the BPF lane path attaches to cgroup v2");
        if (!File.Exists(options.ObjectPath))
        {
            throw new BpfException($"{options.ObjectPath} is missing; run ./build.sh");
        }
        foreach (string stale in BpfPins.RemoveStale(root))
        {
            logger.LogInformation("removed {Path}, left by a broker that no longer runs", stale);
        }
        BpfNative.UseDirectory(options.LibraryDirectory);
        int pid = Environment.ProcessId;
        string? pins = null;
        if (options.PinMaps)
        {
            int rc;
            try
            {
                rc = BpfNative.EnsureBpffs(BpfPins.BpfFs);
            }
            catch (DllNotFoundException e)
            {
                throw new BpfException($"{BpfNative.Library} is missing (run ./build.sh): {e.Message}");
            }
            if (rc < 0)
            {
                throw new BpfException($"no bpffs at {BpfPins.BpfFs} and mounting one failed: {BpfProgram.Describe(-rc)}", -rc);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(BpfPins.PinDirectory(pid))!);
            pins = BpfPins.PinDirectory(pid);
        }
        BpfProgram program = BpfProgram.Load(options.ObjectPath, pins);
        string scope = BpfPins.ScopeCgroup(root, pid);
        BpfLanePath? path = null;
        try
        {
            Directory.CreateDirectory(scope);
            path = new BpfLanePath(program, root, scope, policies, grants, logger, options.IncludeLoopback);
            path.WriteMaps();
            path._attachments.Add(program.Attach(scope));
            foreach (string site in options.SiteCgroups)
            {
                string full = Path.IsPathRooted(site) && site.StartsWith(root, StringComparison.Ordinal) ? site : Path.Combine(root, site.TrimStart('/'));
                if (!Directory.Exists(full))
                {
                    throw new BpfException($"--bpf-cgroup {site}: {full} is not a cgroup directory");
                }
                path._attachments.Add(program.Attach(full));
                logger.LogInformation("BPF lane path attached to the site cgroup {Cgroup}", full);
            }
            path._reader.Start();
            logger.LogInformation("BPF lane path attached to {Scope}; maps pinned at {Pins}", scope, pins ?? "(not pinned)");
            return path;
        }
        catch
        {
            if (path is not null)
            {
                path.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            else
            {
                program.Dispose();
                Cgroup2.TryRemove(scope);
            }
            throw;
        }
    }

    /// <summary>
    /// Makes a cgroup for one command under the broker's scope and moves <paramref name="pid"/> into it (the caller
    /// of <c>BpfScope.Enter</c>, identified by the kernel). Returns the cgroup's directory.
    /// </summary>
    public string EnterScope(int pid, uint uid)
    {
        string? origin = Cgroup2.Of(pid) ?? throw new BpfException($"process {pid} is gone");
        string dir = Path.Combine(ScopeCgroup, string.Create(CultureInfo.InvariantCulture, $"run-{pid}-{Interlocked.Increment(ref _runSequence)}"));
        Directory.CreateDirectory(dir);
        try
        {
            Cgroup2.Move(dir, pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Cgroup2.TryRemove(dir);
            throw new BpfException($"cannot move process {pid} into {dir}: {e.Message}");
        }
        _runs[dir] = new RunCgroup(dir, Path.Combine(CgroupRoot, origin.TrimStart('/')), uid);
        _logger.LogInformation("process {Pid} (uid {Uid}) entered the BPF lane path in {Cgroup}", pid, uid, dir);
        return dir;
    }

    /// <summary>Stops serving, ends every lease it holds, detaches, unpins and removes its cgroups.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        _stop.Cancel();
        await _maintenance.DisposeAsync().ConfigureAwait(false);
        if (_reader.IsAlive)
        {
            _reader.Join();
        }
        _events.Writer.TryComplete();
        await _consumer.ConfigureAwait(false);
        foreach ((ulong cookie, KernelLease flow) in _flows)
        {
            // The broker goes away; the flows stay up untouched, their leases and rules must not outlive it.
            await _grants.ReleaseAsync(flow.LeaseId, flow.Flow, null, CancellationToken.None).ConfigureAwait(false);
            _flows.TryRemove(cookie, out _);
        }
        _program.Dispose();
        foreach (RunCgroup run in _runs.Values)
        {
            foreach (int pid in Cgroup2.Processes(run.Directory))
            {
                try
                {
                    Cgroup2.Move(Directory.Exists(run.Origin) ? run.Origin : CgroupRoot, pid);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
        if (!Cgroup2.TryRemove(ScopeCgroup))
        {
            _logger.LogWarning("could not remove {Scope}: processes are still inside", ScopeCgroup);
        }
        BpfPins.RemoveEmptyParents(CgroupRoot);
        _stop.Dispose();
    }

    private void ReadLoop()
    {
        var batch = new BpfEvent[PollBatch];
        while (!_stop.IsCancellationRequested)
        {
            int n;
            try
            {
                n = _program.Poll(batch, PollTimeoutMs);
            }
            catch (BpfException e)
            {
                _logger.LogError("BPF ring buffer: {Error}; the lane path stops reporting", e.Message);
                return;
            }
            for (int i = 0; i < n; i++)
            {
                _events.Writer.TryWrite(batch[i]);
            }
        }
    }

    private async Task ConsumeAsync()
    {
        await foreach (BpfEvent e in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await HandleAsync(e).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.LogError(ex, "BPF report for socket {Cookie} failed", e.Cookie);
            }
        }
    }

    private async Task HandleAsync(BpfEvent e)
    {
        switch (e.Kind)
        {
            case BpfLayout.EventConnect:
            case BpfLayout.EventAccept:
                await OpenAsync(e).ConfigureAwait(false);
                break;
            case BpfLayout.EventClose:
                _program.ClearVerdict(e.Cookie);
                if (_flows.TryRemove(e.Cookie, out KernelLease? flow))
                {
                    await _grants.ReleaseAsync(flow.LeaseId, flow.Flow, Stats(e), CancellationToken.None).ConfigureAwait(false);
                    _logger.LogDebug("BPF flow {Flow} closed: lease {Lease} released", Describe(e), Short(flow.LeaseId));
                }
                break;
            case BpfLayout.EventUser:
                // The verdict (if still unread) stays: reading it turns the socket's RTT callbacks off.
                if (_flows.TryRemove(e.Cookie, out KernelLease? taken))
                {
                    Interlocked.Increment(ref _userTuned);
                    await _grants.ReleaseAsync(taken.LeaseId, taken.Flow, null, CancellationToken.None).ConfigureAwait(false);
                    _logger.LogDebug("BPF flow of pid {Pid}: tuned in user space after connect (options 0x{Set:x}); lease {Lease} withdrawn, the agent's lane stands",
                        e.Pid, e.UserSet, Short(taken.LeaseId));
                }
                break;
            case BpfLayout.EventVerdict:
                _logger.LogDebug("BPF flow {Flow}: refused, the lane's settings taken back", Describe(e));
                break;
            case BpfLayout.EventListen:
                _logger.LogDebug("BPF listener {Local} by {Comm} (pid {Pid}): {What}", e.LocalEndPoint, e.CommText, e.Pid,
                    e.Applied != 0 ? "receive buffer set" : "left alone");
                break;
        }
    }

    private async Task OpenAsync(BpfEvent e)
    {
        if ((e.Flags & BpfLayout.FlagUserTuned) != 0)
        {
            // The preloaded agent tuned this socket and holds its lease: one flow, one lease, the agent's values.
            Interlocked.Increment(ref _userTuned);
            _logger.LogDebug("BPF flow {Flow}: tuned in user space (options 0x{Set:x}); left to the agent", Describe(e), e.UserSet);
            return;
        }
        if ((e.Flags & (BpfLayout.FlagMatched | BpfLayout.FlagUserspace)) == 0)
        {
            return; // no rule, or a deny line: the kernel left it alone and there is nothing to lease
        }
        KernelFlow flow = ToFlow(e);
        KernelGrantOutcome outcome = await _grants.GrantAsync(flow, _stop.Token).ConfigureAwait(false);
        if (outcome.Grant is { } grant)
        {
            Interlocked.Increment(ref _granted);
            _flows[e.Cookie] = new KernelLease(grant.LeaseId, flow, DateTimeOffset.FromUnixTimeMilliseconds(grant.ExpiresUnixMs), DateTimeOffset.UtcNow);
            if (grant.SndbufMode == Protocol.V1.BufferMode.Force || grant.RcvbufMode == Protocol.V1.BufferMode.Force)
            {
                // What the kernel may not set (buffers above net.core.wmem_max/rmem_max), the broker sets on the socket itself.
                uint applied = KernelSockets.ApplyPrivileged((int)e.Pid, e.Uid, flow.Request.Flow, grant, out string note);
                _logger.LogDebug("BPF flow {Flow}: broker applied 0x{Applied:x}{Note}", Describe(e), applied, note.Length > 0 ? "; " + note : "");
            }
            if (e.Applied != 0)
            {
                _program.SetVerdict(e.Cookie, BpfLayout.VerdictAdmitted);
            }
            _logger.LogDebug("BPF flow {Flow}: lease {Lease}, class {Class}: {Reason}", Describe(e), Short(grant.LeaseId), grant.LaneClass, grant.Reason);
            return;
        }
        Interlocked.Increment(ref _refused);
        if (e.Applied != 0)
        {
            _program.SetVerdict(e.Cookie, BpfLayout.VerdictRefused);
        }
        _logger.LogInformation("BPF flow {Flow}: {Status}: {Detail}{Revert}", Describe(e), outcome.Status, outcome.Detail,
            e.Applied != 0 ? "; its socket goes back to the system's settings" : "");
    }

    private static KernelFlow ToFlow(BpfEvent e)
    {
        bool inbound = e.Kind == BpfLayout.EventAccept;
        var request = new LaneRequest
        {
            Flow = new Flow
            {
                Local = Endpoint(e.LocalEndPoint),
                Remote = Endpoint(e.RemoteEndPoint),
                Direction = inbound ? Direction.Inbound : Direction.Outbound,
                Protocol = 6,
            },
            Program = new ProgramInfo { Path = ExecutableOf((int)e.Pid, e.CommText), Pid = e.Pid, Uid = e.Uid, Gid = e.Gid, Fd = -1 },
            // Privileged: what the kernel cannot set (FORCE buffers) the broker sets on the socket after the report.
            Host = HostSysctls.ToWire(HostSysctls.Read() with { Privileged = true }),
        };
        return new KernelFlow(request, new PeerCredentials((int)e.Pid, e.Uid, e.Gid), e.Cookie);
    }

    private static Endpoint Endpoint(System.Net.IPEndPoint end) =>
        new() { Address = ByteString.CopyFrom(end.Address.GetAddressBytes()), Port = (uint)end.Port };

    // The program's path as policy matches it; a process that already exited is named by its comm.
    private static string ExecutableOf(int pid, string comm)
    {
        try
        {
            string? target = new FileInfo($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/exe").LinkTarget;
            if (!string.IsNullOrEmpty(target))
            {
                return target;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return comm;
    }

    /// <summary>The close record's TCP stats as the agent reports them from TCP_INFO.</summary>
    public static FlowStats Stats(BpfEvent e)
    {
        ulong delivery = e.RateIntervalUs > 0 ? (ulong)e.RateDelivered * e.Mss * 8UL * 1_000_000UL / e.RateIntervalUs : 0;
        return new FlowStats
        {
            BytesAcked = e.BytesAcked,
            BytesReceived = e.BytesReceived,
            DurationMs = e.DurationNs / 1_000_000,
            MinRttUs = e.MinRttUs,
            SrttUs = e.SrttUs,
            TotalRetrans = e.TotalRetrans,
            DeliveryRateBps = delivery,
        };
    }

    // Policy reloads reach the maps within a second; leases of live flows are renewed; empty run cgroups go.
    private void Maintain()
    {
        try
        {
            Policy current = _policies.Current;
            if (!ReferenceEquals(current, _compiled))
            {
                _compiled = current;
                _image = Compile(current);
                WriteMaps();
                _logger.LogInformation("BPF lane path: policy {File} written to the maps ({Rules} rules, {Classes} classes)", current.FileName, _image.Rules.Count, _image.Classes.Count);
            }
            DateTimeOffset now = DateTimeOffset.UtcNow;
            foreach ((ulong cookie, KernelLease flow) in _flows)
            {
                if (flow.ExpiresAt - now < (flow.ExpiresAt - flow.RenewedAt) / 2)
                {
                    bool renewed = _grants.RenewAsync(flow.LeaseId, flow.Flow, _stop.Token).GetAwaiter().GetResult();
                    if (renewed)
                    {
                        TimeSpan ttl = flow.ExpiresAt - flow.RenewedAt;
                        _flows[cookie] = flow with { ExpiresAt = now + ttl, RenewedAt = now };
                    }
                    else
                    {
                        _flows.TryRemove(cookie, out _);
                    }
                }
            }
            foreach (RunCgroup run in _runs.Values)
            {
                if (!Cgroup2.IsPopulated(run.Directory) && Cgroup2.TryRemove(run.Directory))
                {
                    _runs.TryRemove(run.Directory, out _);
                }
            }
        }
        catch (Exception e) when (e is BpfException or IOException or PolicyException or ObjectDisposedException)
        {
            _logger.LogError("BPF lane path maintenance: {Error}", e.Message);
        }
    }

    private BpfMapImage Compile(Policy policy)
    {
        BpfMapImage image = BpfPolicyCompiler.Compile(policy, HostSysctls.Read(), _includeLoopback);
        foreach (string note in image.Notes)
        {
            _logger.LogInformation("BPF lane path: {Note}", note);
        }
        return image;
    }

    private void WriteMaps() => _program.Write(_image, HostSysctls.DefaultCongestion);

    private static string Describe(BpfEvent e) =>
        $"{e.LocalEndPoint} -> {e.RemoteEndPoint} ({e.CommText}, pid {e.Pid}, uid {e.Uid})";

    private static string Short(string id) => id.Length > 8 ? id[..8] + "…" : id;
}
