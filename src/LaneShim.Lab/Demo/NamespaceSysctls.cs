// NamespaceSysctls.cs - sysctls raised in the lab's namespaces for one run and put back afterwards.
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>Sets sysctls in namespaces with `sysctl -w`; <see cref="Dispose"/> restores each previous value.</summary>
internal sealed class NamespaceSysctls : IDisposable
{
    private readonly List<(string Netns, string Key, string Old)> _changed = [];

    /// <summary>Sets each of <paramref name="values"/> in every one of <paramref name="namespaces"/>; throws <see cref="LabException"/> (with nothing left changed) when it cannot.</summary>
    public static NamespaceSysctls Set(IEnumerable<string> namespaces, IReadOnlyDictionary<string, string> values)
    {
        var set = new NamespaceSysctls();
        try
        {
            foreach (string netns in namespaces)
            {
                foreach ((string key, string value) in values)
                {
                    string old = LabTools.Check($"reading {key} in {netns}", LabTools.Ip, ["netns", "exec", netns, "sysctl", "-n", key]).Trim().Replace('\t', ' ');
                    LabTools.Check($"setting {key} in {netns}", LabTools.Ip, ["netns", "exec", netns, "sysctl", "-q", "-w", $"{key}={value}"]);
                    set._changed.Add((netns, key, old));
                }
            }
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        for (int i = _changed.Count - 1; i >= 0; i--)
        {
            (string netns, string key, string old) = _changed[i];
            LabTools.Run(LabTools.Ip, ["netns", "exec", netns, "sysctl", "-q", "-w", $"{key}={old}"]);
        }
        _changed.Clear();
    }
}
