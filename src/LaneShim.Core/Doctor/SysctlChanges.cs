// SysctlChanges.cs - merges the fixes several lanes ask for into one value per sysctl.
using System.Globalization;

namespace LaneShim.Core.Doctor;

/// <summary>Combines sysctl changes so one value satisfies every lane that asked.</summary>
public static class SysctlChanges
{
    /// <summary>
    /// One change per key, in first-seen order. Numbers and number lists of the same length take the larger
    /// value in each position (tcp_wmem "4096 16384 10000000" and "4096 16384 20000000" give the second);
    /// anything else (congestion control lists) is the union of the words in first-seen order.
    /// </summary>
    public static IReadOnlyList<SysctlChange> Merge(IEnumerable<SysctlChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var order = new List<string>();
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (SysctlChange change in changes)
        {
            if (!merged.TryGetValue(change.Key, out string? existing))
            {
                order.Add(change.Key);
                merged[change.Key] = change.Value;
                continue;
            }

            merged[change.Key] = MergeValues(existing, change.Value);
        }

        return order.Select(k => new SysctlChange(k, merged[k])).ToArray();
    }

    private static string MergeValues(string a, string b)
    {
        string[] wa = a.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] wb = b.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (wa.Length == wb.Length && TryNumbers(wa, out long[] na) && TryNumbers(wb, out long[] nb))
        {
            return string.Join(' ', na.Zip(nb, Math.Max).Select(n => n.ToString(CultureInfo.InvariantCulture)));
        }

        return string.Join(' ', wa.Concat(wb).Distinct(StringComparer.Ordinal));
    }

    private static bool TryNumbers(string[] words, out long[] numbers)
    {
        numbers = new long[words.Length];
        for (int i = 0; i < words.Length; i++)
        {
            if (!long.TryParse(words[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return false;
            }
        }

        return true;
    }
}
