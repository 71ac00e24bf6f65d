// ILeaseStore.cs - where leases live beyond the broker's memory: nowhere (memory), a SQLite file, or PostgreSQL.
using LaneShim.Broker.Leases;

namespace LaneShim.Broker.Storage;

/// <summary>
/// Durable lease state. <see cref="LeaseTable"/> keeps the hot in-memory index and calls the store for every change;
/// a grant's task completes only when the lease is durable, so a broker never answers with a lease it could lose.
/// </summary>
public interface ILeaseStore : IAsyncDisposable
{
    /// <summary>For logs: "memory", "sqlite /var/lib/laneshim/broker.db", "postgresql host/db".</summary>
    string Description { get; }

    /// <summary>
    /// True when several brokers share this store: the store, not this broker's memory, decides admission, and a
    /// lease granted elsewhere can be renewed or released here.
    /// </summary>
    bool IsShared { get; }

    /// <summary>
    /// Makes a new lease durable. A shared store first checks its <see cref="LeaseEntry.Links"/> against every
    /// broker's live leases and returns the refusal instead of storing it when one lacks the rate; other stores
    /// never refuse (the table admitted it already).
    /// </summary>
    Task<AdmissionRefusal?> AddAsync(LeaseEntry entry, CancellationToken cancellationToken);

    /// <summary>Stores a renewed lease or new applied settings.</summary>
    Task UpdateAsync(LeaseEntry entry, CancellationToken cancellationToken);

    /// <summary>Forgets a lease (released or expired); unknown ids are not an error.</summary>
    Task RemoveAsync(string leaseId, CancellationToken cancellationToken);

    /// <summary>Deletes leases expired at <paramref name="now"/> and returns the live ones (a shared store: every broker's).</summary>
    Task<IReadOnlyList<LeaseEntry>> LoadLiveAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>A live lease by id, or null.</summary>
    Task<LeaseEntry?> FindAsync(string leaseId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Remembers that topology <paramref name="version"/> of <paramref name="source"/> was in force from <paramref name="at"/>.</summary>
    Task RecordTopologyAsync(long version, string source, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The topology versions recorded, oldest first.</summary>
    Task<IReadOnlyList<TopologyVersion>> TopologyVersionsAsync(CancellationToken cancellationToken);
}
