// ReportQueue.cs - the bounded queue between the connect/close paths and the reporter thread, without spinning.
namespace LaneShim.Agent;

/// <summary>
/// A bounded FIFO whose consumer blocks on a monitor. BlockingCollection's semaphore spins (sched_yield) before it
/// blocks; in a host program's process that is CPU taken from the program on every close.
/// </summary>
internal sealed class ReportQueue
{
    private readonly Queue<object> _items = new();
    private readonly int _capacity;

    public ReportQueue(int capacity) => _capacity = capacity;

    /// <summary>Adds an item; false when the queue is full (the item is dropped).</summary>
    public bool TryAdd(object item)
    {
        lock (_items)
        {
            if (_items.Count >= _capacity)
            {
                return false;
            }
            _items.Enqueue(item);
            if (_items.Count == 1)
            {
                Monitor.Pulse(_items);
            }
            return true;
        }
    }

    /// <summary>Takes the oldest item, waiting up to <paramref name="timeoutMs"/> (<see cref="Timeout.Infinite"/>: for ever).</summary>
    public bool TryTake(out object? item, int timeoutMs)
    {
        long until = timeoutMs == Timeout.Infinite ? long.MaxValue : Environment.TickCount64 + timeoutMs;
        lock (_items)
        {
            while (_items.Count == 0)
            {
                long left = until == long.MaxValue ? Timeout.Infinite : until - Environment.TickCount64;
                if (left != Timeout.Infinite && left <= 0)
                {
                    item = null;
                    return false;
                }
                Monitor.Wait(_items, (int)Math.Min(left, int.MaxValue));
            }
            item = _items.Dequeue();
            return true;
        }
    }
}
