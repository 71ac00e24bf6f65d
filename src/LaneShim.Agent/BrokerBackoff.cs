// BrokerBackoff.cs - after the broker fails, connects skip it for a while instead of each paying the deadline.
namespace LaneShim.Agent;

/// <summary>Exponential backoff from 250 ms to 10 s after consecutive broker failures; reset by any answer.</summary>
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

    public void Failed()
    {
        lock (_gate)
        {
            _failures = Math.Min(_failures + 1, 16);
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
