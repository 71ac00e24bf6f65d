// MemoryLeaseStore.cs - no persistence: leases live only in the broker's table (tests, `--state memory`).
using LaneShim.Broker.Leases;

namespace LaneShim.Broker.Storage;

/// <summary>Keeps nothing but topology versions; every operation completes at once.</summary>
public sealed class MemoryLeaseStore : ILeaseStore
{
    private readonly List<TopologyVersion> _topologies = [];

    /// <inheritdoc/>
    public string Description => "memory";

    /// <inheritdoc/>
    public bool IsShared => false;

    /// <inheritdoc/>
    public Task<AdmissionRefusal?> AddAsync(LeaseEntry entry, CancellationToken cancellationToken) => Task.FromResult<AdmissionRefusal?>(null);

    /// <inheritdoc/>
    public Task UpdateAsync(LeaseEntry entry, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task RemoveAsync(string leaseId, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task<IReadOnlyList<LeaseEntry>> LoadLiveAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<LeaseEntry>>([]);

    /// <inheritdoc/>
    public Task<LeaseEntry?> FindAsync(string leaseId, DateTimeOffset now, CancellationToken cancellationToken) => Task.FromResult<LeaseEntry?>(null);

    /// <inheritdoc/>
    public Task RecordTopologyAsync(long version, string source, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_topologies)
        {
            if (!_topologies.Any(t => t.Version == version && t.Source == source))
            {
                _topologies.Add(new TopologyVersion(version, source, at));
            }
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<TopologyVersion>> TopologyVersionsAsync(CancellationToken cancellationToken)
    {
        lock (_topologies)
        {
            return Task.FromResult<IReadOnlyList<TopologyVersion>>(_topologies.ToList());
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
