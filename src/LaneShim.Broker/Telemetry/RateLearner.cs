// RateLearner.cs - learns what recent flows to each destination achieved and whether the far end held them back.
using System.Net;

namespace LaneShim.Broker.Telemetry;

/// <summary>
/// Per-destination achieved rates from closed flows (same /24 and /64 keys as <see cref="RttLearner"/>).
/// </summary>
/// <remarks>
/// When at least <see cref="MinEvidence"/> and most of the recent flows to a destination were limited by the receiver's
/// window and moved well under the class rate (below <see cref="ShortfallRatio"/> of it), a bigger lane would not help:
/// the far end is the bottleneck. (The class rate, not each flow's granted rate, is the yardstick: flows granted the
/// capped rate still count, so the cap does not flap; a receiver that improves stops being window-limited and lifts it.)
/// Later grants to that destination are then sized at the median achieved rate x <see cref="Headroom"/> (never above the
/// class rate), so buffers and pacing match what the receiver takes and the lane's capacity is left to others.
/// Flows shorter than <see cref="MinDuration"/> are ignored (slow start dominates them), and samples older than
/// <see cref="SampleLifetime"/> are forgotten: a receiver can be fixed.
/// </remarks>
public sealed class RateLearner
{
    /// <summary>How many recent flows per destination count.</summary>
    public const int Window = 8;

    /// <summary>How many receiver-limited flows it takes, at least.</summary>
    public const int MinEvidence = 2;

    /// <summary>Achieved below this fraction of the class rate counts as a shortfall.</summary>
    public const double ShortfallRatio = 0.5;

    /// <summary>A grant capped by learning gets this much more than was achieved, so a receiver that improves can show it.</summary>
    public const double Headroom = 1.5;

    /// <summary>Flows shorter than this teach nothing.</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromMilliseconds(500);

    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<Sample>> _samples = new(StringComparer.Ordinal);

    /// <summary>Creates an empty learner.</summary>
    public RateLearner(TimeProvider clock, TimeSpan? sampleLifetime = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        SampleLifetime = sampleLifetime ?? TimeSpan.FromMinutes(10);
    }

    /// <summary>How long a sample counts.</summary>
    public TimeSpan SampleLifetime { get; }

    /// <summary>Adds one closed flow. Returns false when it is too short or has no rate.</summary>
    public bool Record(IPAddress remote, ulong achievedBps, ulong grantedBps, TimeSpan duration, bool receiverLimited)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (achievedBps == 0 || duration < MinDuration)
        {
            return false;
        }
        string key = RttLearner.DestinationKey(remote);
        lock (_lock)
        {
            if (!_samples.TryGetValue(key, out List<Sample>? list))
            {
                if (_samples.Count >= RttLearner.DefaultCapacity)
                {
                    Prune();
                }
                _samples[key] = list = [];
            }
            list.Add(new Sample(achievedBps, grantedBps, receiverLimited, _clock.GetUtcNow()));
            if (list.Count > Window)
            {
                list.RemoveAt(0);
            }
        }
        return true;
    }

    /// <summary>
    /// The rate to grant toward <paramref name="remote"/> when learning says the receiver limits it below
    /// <paramref name="classRateBps"/>; null (with no note) otherwise.
    /// </summary>
    public ulong? Cap(IPAddress remote, ulong classRateBps, out string note)
    {
        ArgumentNullException.ThrowIfNull(remote);
        note = "";
        string key = RttLearner.DestinationKey(remote);
        List<Sample> live;
        lock (_lock)
        {
            if (!_samples.TryGetValue(key, out List<Sample>? list))
            {
                return null;
            }
            DateTimeOffset now = _clock.GetUtcNow();
            live = list.Where(s => now - s.At < SampleLifetime).ToList();
        }
        List<Sample> limited = live.Where(s => s.ReceiverLimited && s.AchievedBps < classRateBps * ShortfallRatio).ToList();
        if (limited.Count < MinEvidence || limited.Count * 2 <= live.Count)
        {
            return null;
        }
        ulong[] rates = limited.Select(s => s.AchievedBps).Order().ToArray();
        ulong median = rates[rates.Length / 2];
        ulong cap = (ulong)(median * Headroom);
        if (cap >= classRateBps)
        {
            return null;
        }
        note = $"; sized at {Headroom}x the {LaneShim.Core.Units.FormatRate(median)} that {limited.Count} of {live.Count} recent flows to {key} achieved (limited by the receiver's window)";
        return cap;
    }

    private void Prune()
    {
        DateTimeOffset now = _clock.GetUtcNow();
        foreach (string stale in _samples.Where(e => e.Value.Count == 0 || now - e.Value[^1].At >= SampleLifetime).Select(e => e.Key).ToList())
        {
            _samples.Remove(stale);
        }
        if (_samples.Count >= RttLearner.DefaultCapacity)
        {
            _samples.Remove(_samples.MinBy(e => e.Value[^1].At).Key);
        }
    }

    private readonly record struct Sample(ulong AchievedBps, ulong GrantedBps, bool ReceiverLimited, DateTimeOffset At);
}
