// RttLearner.cs - learns the RTT to each destination network from flow reports, for classes with rtt=learn.
using System.Net;
using System.Net.Sockets;
using LaneShim.Core;

namespace LaneShim.Broker;

/// <summary>
/// Per-destination RTT estimates from the TCP_INFO samples agents report.
/// </summary>
/// <remarks>
/// Destinations are keyed by IPv4 /24 and IPv6 /64 (v4-mapped addresses count as IPv4): hosts in one subnet
/// almost always sit at the same distance, so the first flow to a new host of a known site is already sized right.
/// A sample is min_rtt (the propagation delay, without queueing; what a BDP should use), or srtt when min_rtt is 0.
/// Estimates are an EWMA with weight 1/4 for the new sample, forgotten after <see cref="SampleLifetime"/>
/// (paths change); the table keeps at most <see cref="Capacity"/> destinations, dropping the stalest.
/// </remarks>
public sealed class RttLearner
{
    /// <summary>How long an estimate lives without a new sample, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultSampleLifetime = TimeSpan.FromHours(1);

    /// <summary>How many destinations are kept, unless told otherwise.</summary>
    public const int DefaultCapacity = 4096;

    // Samples above this are broken clocks or hung flows, not paths.
    private const uint MaxPlausibleRttUs = 10_000_000;

    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long RttTicks, int Samples, DateTimeOffset Updated)> _estimates = new(StringComparer.Ordinal);

    /// <summary>Creates an empty learner.</summary>
    public RttLearner(TimeProvider clock, TimeSpan? sampleLifetime = null, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _clock = clock;
        SampleLifetime = sampleLifetime ?? DefaultSampleLifetime;
        Capacity = capacity;
    }

    /// <summary>How long an estimate lives without a new sample.</summary>
    public TimeSpan SampleLifetime { get; }

    /// <summary>The most destinations kept.</summary>
    public int Capacity { get; }

    /// <summary>How many destinations have a live estimate.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                DateTimeOffset now = _clock.GetUtcNow();
                return _estimates.Count(e => now - e.Value.Updated < SampleLifetime);
            }
        }
    }

    /// <summary>"10.20.1.0/24" or "2001:db8:0:1::/64": the destination an address's samples are kept under.</summary>
    public static string DestinationKey(IPAddress remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        byte[] bytes = remote.GetAddressBytes();
        if (remote.AddressFamily == AddressFamily.InterNetwork)
        {
            bytes[3] = 0;
            return $"{new IPAddress(bytes)}/24";
        }

        Array.Clear(bytes, 8, 8);
        return $"{new IPAddress(bytes)}/64";
    }

    /// <summary>Adds one flow's TCP_INFO RTTs. Returns false when the sample is unusable (both zero, or implausible).</summary>
    public bool Record(IPAddress remote, uint minRttUs, uint srttUs)
    {
        ArgumentNullException.ThrowIfNull(remote);
        uint sampleUs = minRttUs != 0 ? minRttUs : srttUs;
        if (sampleUs == 0 || sampleUs > MaxPlausibleRttUs)
        {
            return false;
        }

        long sampleTicks = sampleUs * 10L;
        string key = DestinationKey(remote);
        lock (_lock)
        {
            DateTimeOffset now = _clock.GetUtcNow();
            if (_estimates.TryGetValue(key, out var old) && now - old.Updated < SampleLifetime)
            {
                long blended = old.RttTicks + ((sampleTicks - old.RttTicks) / 4);
                _estimates[key] = (blended, old.Samples + 1, now);
                return true;
            }

            if (!_estimates.ContainsKey(key) && _estimates.Count >= Capacity)
            {
                EvictStalest();
            }

            _estimates[key] = (sampleTicks, 1, now);
            return true;
        }
    }

    /// <summary>The learned RTT for <paramref name="remote"/>'s destination, if a live estimate exists.</summary>
    public bool TryGetRtt(IPAddress remote, out TimeSpan rtt)
    {
        ArgumentNullException.ThrowIfNull(remote);
        string key = DestinationKey(remote);
        lock (_lock)
        {
            if (_estimates.TryGetValue(key, out var estimate) && _clock.GetUtcNow() - estimate.Updated < SampleLifetime)
            {
                rtt = TimeSpan.FromTicks(estimate.RttTicks);
                return true;
            }
        }

        rtt = default;
        return false;
    }

    /// <summary>
    /// The RTT to size a grant of <paramref name="laneClass"/> for: the class's own for fixed classes; for learning
    /// classes the learned one, or the class's fallback before any sample (and for listening sockets, which have no peer).
    /// </summary>
    public RttChoice Choose(LaneClass laneClass, IPAddress? remote)
    {
        ArgumentNullException.ThrowIfNull(laneClass);
        if (laneClass.RttMode == RttMode.Fixed)
        {
            return new RttChoice(laneClass.Rtt, RttSource.Fixed);
        }

        return remote is not null && TryGetRtt(remote, out TimeSpan learned)
            ? new RttChoice(learned, RttSource.Learned)
            : new RttChoice(laneClass.Rtt, RttSource.Fallback);
    }

    private void EvictStalest()
    {
        string? stalest = null;
        DateTimeOffset oldest = DateTimeOffset.MaxValue;
        foreach ((string key, var estimate) in _estimates)
        {
            if (estimate.Updated < oldest)
            {
                oldest = estimate.Updated;
                stalest = key;
            }
        }

        if (stalest is not null)
        {
            _estimates.Remove(stalest);
        }
    }
}
