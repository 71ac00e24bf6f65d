// BrokerBackoff.cs - after the broker fails, connects skip it for a while instead of each paying the deadline.
namespace LaneShim.Agent;

/// <summary>Exponential backoff from 250 ms to 10 s after broker failures (an unreachable broker at once, a slow one from the second time in a row); reset by any answer.</summary>
internal sealed class BrokerBackoff
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(10);
    private readonly TimeProvider _clock;
    private readonly object _gate = new();
    private int _failures;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;

    public BrokerBackoff(TimeProvider clock) => _clock = clock;

    /// <summary>True while the broker should not be asked.</summary>
    public bool Active
    {
        get
        {
            lock (_gate)
            {
                return _clock.GetUtcNow() < _retryAt;
            }
        }
    }

    /// <summary>
    /// Records a failure. A broker that is not there backs off at once; one that was merely slow once does not,
    /// so the next connect (often a moment later: a data connection after its control connection) still asks.
    /// </summary>
    public void Failed(bool slowOnly = false)
    {
        lock (_gate)
        {
            _failures = Math.Min(_failures + 1, 16);
            if (slowOnly && _failures < 2)
            {
                return;
            }
            double ms = Math.Min(First.TotalMilliseconds * Math.Pow(2, _failures - 1), Longest.TotalMilliseconds);
            _retryAt = _clock.GetUtcNow().AddMilliseconds(ms);
        }
    }

    public void Answered()
    {
        lock (_gate)
        {
            _failures = 0;
            _retryAt = DateTimeOffset.MinValue;
        }
    }
}
