// DeadlineScheduler.cs - one background thread that fires DeadlineTimers at their exact timestamps, never blocking the thread pool.
using System.Diagnostics;

namespace LaneShim.Grpc;

/// <summary>
/// Holds the timers whose deadline is less than <see cref="DeadlineTimer.Lead"/> away, and fires each on time.
/// Monitor.Wait is precise (pthread_cond_timedwait), unlike the tick-count based .NET timers. The thread starts on first use
/// and only wakes for deadlines that are about to pass.
/// </summary>
internal static class DeadlineScheduler
{
    private static readonly object Gate = new();
    private static readonly PriorityQueue<DeadlineTimer, long> Queue = new();
    private static Thread? _thread;

    public static void Schedule(DeadlineTimer timer)
    {
        lock (Gate)
        {
            Queue.Enqueue(timer, timer.DueTimestamp);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "laneshim-deadlines" };
                _thread.UnsafeStart();
            }

            Monitor.Pulse(Gate);
        }
    }

    private static void Run()
    {
        var due = new List<DeadlineTimer>();
        while (true)
        {
            lock (Gate)
            {
                while (true)
                {
                    while (Queue.TryPeek(out DeadlineTimer? head, out _) && head.IsDisarmed)
                    {
                        Queue.Dequeue();
                    }

                    if (!Queue.TryPeek(out _, out long at))
                    {
                        Monitor.Wait(Gate);
                        continue;
                    }

                    long remaining = at - Stopwatch.GetTimestamp();
                    if (remaining <= 0)
                    {
                        break;
                    }

                    // Rounded up: at most 1 ms late, never early.
                    Monitor.Wait(Gate, (int)Math.Min(int.MaxValue, ((remaining * 1000) + Stopwatch.Frequency - 1) / Stopwatch.Frequency));
                }

                long now = Stopwatch.GetTimestamp();
                while (Queue.TryPeek(out DeadlineTimer? head, out long at) && at <= now)
                {
                    due.Add(Queue.Dequeue());
                }
            }

            foreach (DeadlineTimer timer in due)
            {
                timer.Fire();
            }

            due.Clear();
        }
    }
}
