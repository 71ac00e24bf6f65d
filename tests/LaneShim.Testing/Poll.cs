// Poll.cs - the one way tests wait: for a condition with a deadline, or for the clock to pass an instant the test computed.
using System.Diagnostics;

namespace LaneShim.Testing;

/// <summary>Waiting helpers; no test sleeps for something it could look at.</summary>
public static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    /// <summary>Polls every 20 ms until <paramref name="ready"/> holds; throws <see cref="TimeoutException"/> naming <paramref name="what"/>.</summary>
    public static void Until(Func<bool> ready, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!ready())
        {
            if (sw.Elapsed > timeout)
            {
                throw new TimeoutException($"not {what} after {timeout.TotalSeconds} s");
            }
            Thread.Sleep(Interval);
        }
    }

    /// <summary>
    /// Returns once the wall clock is past <paramref name="instant"/>: for tests whose subject is time itself (a lease
    /// must expire while its broker is down), where there is nothing to poll.
    /// </summary>
    public static void Past(DateTimeOffset instant)
    {
        TimeSpan left = instant - DateTimeOffset.UtcNow;
        if (left > TimeSpan.Zero)
        {
            Thread.Sleep(left);
        }
    }

    /// <summary>Calls <paramref name="look"/> every <paramref name="interval"/> for <paramref name="duration"/>: a property that must hold throughout.</summary>
    public static void Throughout(TimeSpan duration, TimeSpan interval, Action look)
    {
        var sw = Stopwatch.StartNew();
        do
        {
            look();
            Thread.Sleep(interval);
        }
        while (sw.Elapsed < duration);
        look();
    }
}
