// PolicyStore.cs - holds the policy in force and swaps in a new one only when it parses (keep the last good config).
using System.Diagnostics.CodeAnalysis;
using LaneShim.Core;

namespace LaneShim.Broker;

/// <summary>The policy the broker decides with; reloads keep the last good policy when the new one is rejected.</summary>
public sealed class PolicyStore
{
    private Policy _current;

    /// <summary>Starts with <paramref name="initial"/>.</summary>
    public PolicyStore(Policy initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _current = initial;
    }

    /// <summary>The policy in force.</summary>
    public Policy Current => Volatile.Read(ref _current);

    /// <summary>Replaces the policy.</summary>
    public void Replace(Policy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Volatile.Write(ref _current, policy);
    }

    /// <summary>
    /// Loads a new policy with <paramref name="load"/> (e.g. <see cref="BrokerOptions.LoadPolicy"/>) and swaps it in.
    /// On a <see cref="PolicyException"/> the current policy stays and <paramref name="error"/> holds
    /// "file:line: what is wrong".
    /// </summary>
    public bool TryReload(Func<Policy> load, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(load);
        try
        {
            Replace(load());
            error = null;
            return true;
        }
        catch (PolicyException ex)
        {
            error = ex.Message;
            return false;
        }
    }
}
