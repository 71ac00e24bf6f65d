// FlowLog.cs - the broker's bounded ring of recently closed flows, for `laneshim status` and ListFlows.
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Telemetry;

/// <summary>Keeps the last <see cref="Capacity"/> closed flows; older ones fall off. Thread-safe.</summary>
public sealed class FlowLog
{
    /// <summary>How many flows are kept unless told otherwise.</summary>
    public const int DefaultCapacity = 1024;

    private readonly Lock _lock = new();
    private readonly FlowRecord[] _ring;
    private long _recorded;

    /// <summary>Creates an empty log.</summary>
    public FlowLog(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new FlowRecord[capacity];
    }

    /// <summary>The most flows kept.</summary>
    public int Capacity => _ring.Length;

    /// <summary>Flows recorded since start, including those no longer kept.</summary>
    public long Recorded => Interlocked.Read(ref _recorded);

    /// <summary>Adds a closed flow (the log keeps its own copy).</summary>
    public void Add(FlowRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        FlowRecord copy = record.Clone();
        lock (_lock)
        {
            _ring[_recorded % _ring.Length] = copy;
            _recorded++;
        }
    }

    /// <summary>The kept flows, newest first; at most <paramref name="limit"/> (0: all).</summary>
    public IReadOnlyList<FlowRecord> Recent(int limit = 0)
    {
        lock (_lock)
        {
            int kept = (int)Math.Min(_recorded, _ring.Length);
            int take = limit > 0 ? Math.Min(limit, kept) : kept;
            var list = new List<FlowRecord>(take);
            for (long i = _recorded - 1; list.Count < take; i--)
            {
                list.Add(_ring[i % _ring.Length].Clone());
            }
            return list;
        }
    }
}
