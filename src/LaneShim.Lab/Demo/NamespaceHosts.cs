// NamespaceHosts.cs - an /etc/hosts for the lab's host namespaces, so servers that resolve names do not wait for DNS.
namespace LaneShim.Lab.Demo;

/// <summary>
/// `ip netns exec NS` bind-mounts /etc/netns/NS/hosts over /etc/hosts. The lab namespaces cannot reach a DNS
/// server, and GridFTP resolves its own address and the machine's host name: without these entries it fails
/// ("Temporary failure in name resolution") or waits for resolver timeouts.
/// </summary>
internal static class NamespaceHosts
{
    private const string Root = "/etc/netns";
    private const string Marker = "# written by laneshim demo for its lab; removed when the demo ends";

    /// <summary>Writes the hosts file of <paramref name="netns"/>, naming this machine by <paramref name="ownAddress"/>; pushes its removal.</summary>
    public static void Write(string netns, string ownAddress, IReadOnlyDictionary<string, string> names, string hostName, CleanupStack cleanup)
    {
        string dir = Path.Combine(Root, netns);
        string file = Path.Combine(dir, "hosts");
        // A file an earlier demo left (it was killed) is ours to replace; anything else is someone else's.
        if (File.Exists(file) && File.ReadLines(file).FirstOrDefault() != Marker)
        {
            throw new DemoException($"{file} already exists and is not the demo's, so the demo leaves it alone (remove it, or choose another --name)");
        }
        bool createdRoot = !Directory.Exists(Root);
        bool createdDir = !Directory.Exists(dir);
        Directory.CreateDirectory(dir);
        cleanup.Push($"remove {file}", () =>
        {
            File.Delete(file);
            if (createdDir)
            {
                Directory.Delete(dir);
            }
            if (createdRoot && !Directory.EnumerateFileSystemEntries(Root).Any())
            {
                Directory.Delete(Root);
            }
        });
        var lines = new List<string> { Marker, "127.0.0.1 localhost" };
        foreach ((string address, string name) in names)
        {
            lines.Add(address == ownAddress ? $"{address} {name} {hostName}" : $"{address} {name}");
        }
        File.WriteAllLines(file, lines);
    }
}
