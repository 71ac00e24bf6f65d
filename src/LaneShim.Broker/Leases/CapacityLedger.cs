// CapacityLedger.cs - how much rate live leases hold on each link, for one broker that owns its state (memory, SQLite).
namespace LaneShim.Broker.Leases;

/// <summary>
/// Reserved rate per link key. Not thread-safe: <see cref="LeaseTable"/> calls it under its lock, so a check and
/// its reservation are one step and concurrent grants can never together exceed a capacity.
/// </summary>
public sealed class CapacityLedger
{
    private readonly Dictionary<string, ulong> _used = new(StringComparer.Ordinal);

    /// <summary>Reserved rate on a link (0 when none).</summary>
    public ulong Used(string key) => _used.GetValueOrDefault(key);

    /// <summary>All links with a reservation, and how much.</summary>
    public IReadOnlyDictionary<string, ulong> Snapshot() => new Dictionary<string, ulong>(_used, StringComparer.Ordinal);

    /// <summary>Reserves <paramref name="rateBps"/> on every link, or none: returns the tightest link that lacks it.</summary>
    public AdmissionRefusal? TryReserve(IReadOnlyList<LinkDemand> links, ulong rateBps)
    {
        AdmissionRefusal? tightest = null;
        foreach (LinkDemand link in links)
        {
            ulong used = Used(link.Key);
            ulong free = link.CapacityBps > used ? link.CapacityBps - used : 0;
            if (free < rateBps && (tightest is null || free < tightest.FreeBps))
            {
                tightest = new AdmissionRefusal(link, free);
            }
        }
        if (tightest is not null)
        {
            return tightest;
        }
        Reserve(links, rateBps);
        return null;
    }

    /// <summary>Reserves without checking (leases reloaded on start were admitted before).</summary>
    public void Reserve(IReadOnlyList<LinkDemand> links, ulong rateBps)
    {
        foreach (LinkDemand link in links)
        {
            _used[link.Key] = Used(link.Key) + rateBps;
        }
    }

    /// <summary>Gives a lease's rate back.</summary>
    public void Release(IReadOnlyList<LinkDemand> links, ulong rateBps)
    {
        foreach (LinkDemand link in links)
        {
            ulong left = Used(link.Key) > rateBps ? Used(link.Key) - rateBps : 0;
            if (left == 0)
            {
                _used.Remove(link.Key);
            }
            else
            {
                _used[link.Key] = left;
            }
        }
    }
}
