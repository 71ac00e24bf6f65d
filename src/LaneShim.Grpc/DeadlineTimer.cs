// DeadlineTimer.cs - cancels a call at its deadline to within about 1 ms, although .NET timers tick in jiffies.
using System.Diagnostics;

namespace LaneShim.Grpc;

/// <summary>
/// Cancels a <see cref="CancellationTokenSource"/> at a <see cref="Stopwatch"/> timestamp and completes <see cref="Expired"/>,
/// never early and at most about 1 ms late. <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>, <c>Task.Delay</c> and
/// friends run on <see cref="Environment.TickCount64"/>, which Linux serves from CLOCK_MONOTONIC_COARSE: they fire up to a
/// jiffy (4 ms at HZ=250) early or late. So a coarse timer only hands this one, <see cref="Lead"/> ahead of time,
/// to a dedicated thread that waits out the rest precisely.
/// </summary>
public sealed class DeadlineTimer : IDisposable
{
    /// <summary>How far ahead of the deadline the coarse timer hands over: more than one jiffy at HZ=250, plus slack.</summary>
    public static readonly TimeSpan Lead = TimeSpan.FromMilliseconds(6);

    private const int Armed = 0;
    private const int Fired = 1;
    private const int Disarmed = 2;

    private readonly CancellationTokenSource _target;
    private readonly TaskCompletionSource _expired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Timer? _handOver;
    private int _state;

    /// <summary>Arms the timer for <paramref name="dueTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/> value).</summary>
    public DeadlineTimer(long dueTimestamp, CancellationTokenSource target)
    {
        ArgumentNullException.ThrowIfNull(target);
        DueTimestamp = dueTimestamp;
        _target = target;
        TimeSpan untilHandOver = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), dueTimestamp) - Lead;
        if (untilHandOver <= TimeSpan.Zero)
        {
            DeadlineScheduler.Schedule(this);
        }
        else
        {
            _handOver = new Timer(static state => DeadlineScheduler.Schedule((DeadlineTimer)state!), this, untilHandOver, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The deadline, as a <see cref="Stopwatch.GetTimestamp"/> value.</summary>
    public long DueTimestamp { get; }

    /// <summary>Completes at the deadline (its continuations run on the thread pool); never completes if disposed first.</summary>
    public Task Expired => _expired.Task;

    internal bool IsDisarmed => Volatile.Read(ref _state) == Disarmed;

    /// <summary>Arms a timer <paramref name="timeout"/> from now.</summary>
    public static DeadlineTimer After(TimeSpan timeout, CancellationTokenSource target)
        => new(TimestampAfter(Stopwatch.GetTimestamp(), timeout), target);

    /// <summary>The <see cref="Stopwatch"/> timestamp <paramref name="timeout"/> after <paramref name="start"/>.</summary>
    public static long TimestampAfter(long start, TimeSpan timeout)
        => start + (long)(timeout.Ticks * ((double)Stopwatch.Frequency / TimeSpan.TicksPerSecond));

    /// <summary>Disarms the timer; the target is not cancelled unless the deadline already fired.</summary>
    public void Dispose()
    {
        Interlocked.CompareExchange(ref _state, Disarmed, Armed);
        _handOver?.Dispose();
    }

    internal void Fire()
    {
        if (Interlocked.CompareExchange(ref _state, Fired, Armed) != Armed)
        {
            return;
        }

        _expired.TrySetResult();
        try
        {
            // On the thread pool: a cancellation callback that blocks must not hold up other deadlines.
            _ = _target.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
