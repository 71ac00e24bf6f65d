// LeaseGrantResult.cs - what LeaseTable.TryGrantAsync did: a lease, a capacity refusal, or a full table.
namespace LaneShim.Broker.Leases;

/// <summary>Exactly one of: <paramref name="Entry"/> (granted), <paramref name="Refusal"/> (a link lacks the rate), or neither (the table is full).</summary>
public sealed record LeaseGrantResult(LeaseEntry? Entry, AdmissionRefusal? Refusal)
{
    /// <summary>The table holds its maximum of leases.</summary>
    public static LeaseGrantResult Full { get; } = new(null, null);

    /// <summary>True when the table was full.</summary>
    public bool TableFull => Entry is null && Refusal is null;
}
