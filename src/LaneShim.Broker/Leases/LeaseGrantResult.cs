// LeaseGrantResult.cs - what LeaseTable.TryGrantAsync did: a lease (new, or joined by the flow's other end), a capacity refusal, or a full table.
namespace LaneShim.Broker.Leases;

/// <summary>Exactly one of: <paramref name="Entry"/> (granted), <paramref name="Refusal"/> (a link lacks the rate), or neither (the table is full).</summary>
public sealed record LeaseGrantResult(LeaseEntry? Entry, AdmissionRefusal? Refusal)
{
    /// <summary>The table holds its maximum of leases.</summary>
    public static LeaseGrantResult Full { get; } = new(null, null);

    /// <summary>True when the table was full.</summary>
    public bool TableFull => Entry is null && Refusal is null;

    /// <summary>
    /// The request was the other end of a live per-flow lease's connection and joined it: no second admission, no
    /// second set of rules. <see cref="Entry"/> then carries the caller's own grant under the shared lease id.
    /// </summary>
    public bool Joined { get; init; }

    /// <summary>The caller's index in <see cref="LeaseEntry.Holders"/>.</summary>
    public int Holder { get; init; }
}
