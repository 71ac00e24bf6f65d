// SiteTopology.cs - a site's nodes and links, with a version that changes on every edit.
using System.Net;

namespace LaneShim.Core.Topology;

/// <summary>An immutable topology graph; edits make a new one with a higher version.</summary>
public sealed class SiteTopology
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<(int Neighbor, int Link)>[] _adjacency;

    /// <summary>Builds the graph; node names must be unique and every link must name two of the nodes.</summary>
    /// <param name="nodes">Every node, in file order.</param>
    /// <param name="links">Every link; each <see cref="TopologyLink.Index"/> is its position in this sequence.</param>
    /// <param name="version">Starts at 1; <see cref="WithLink"/> and <see cref="WithoutLink"/> add one.</param>
    /// <param name="source">The file it was read from, for messages.</param>
    public SiteTopology(IEnumerable<TopologyNode> nodes, IEnumerable<TopologyLink> links, long version = 1, string source = "(topology)")
    {
        Nodes = nodes.ToArray();
        Links = links.ToArray();
        Version = version;
        Source = source;
        for (int i = 0; i < Nodes.Count; i++)
        {
            _index.Add(Nodes[i].Name, i);
        }
        _adjacency = new List<(int, int)>[Nodes.Count];
        for (int i = 0; i < _adjacency.Length; i++)
        {
            _adjacency[i] = [];
        }
        for (int l = 0; l < Links.Count; l++)
        {
            int a = _index[Links[l].A], b = _index[Links[l].B];
            _adjacency[a].Add((b, l));
            _adjacency[b].Add((a, l));
        }
    }

    /// <summary>Every node in file order; a path names nodes by <see cref="TopologyNode.Name"/>.</summary>
    public IReadOnlyList<TopologyNode> Nodes { get; }

    /// <summary>Every link, undirected; entry <c>i</c> has <see cref="TopologyLink.Index"/> <c>i</c>.</summary>
    public IReadOnlyList<TopologyLink> Links { get; }

    /// <summary>Bumped on every change; a path computed on another version is stale.</summary>
    public long Version { get; }

    /// <summary>Where it came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The node by name, or null.</summary>
    public TopologyNode? Node(string name) => _index.TryGetValue(name, out int i) ? Nodes[i] : null;

    /// <summary>The host node that owns an address (longest prefix wins), or null.</summary>
    public TopologyNode? HostOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        TopologyNode? best = null;
        int bestLength = -1;
        foreach (TopologyNode n in Nodes)
        {
            foreach (Cidr c in n.Addresses)
            {
                if (c.PrefixLength > bestLength && c.Contains(address))
                {
                    best = n;
                    bestLength = c.PrefixLength;
                }
            }
        }
        return best;
    }

    internal int IndexOf(string name) => _index[name];

    internal IReadOnlyList<(int Neighbor, int Link)> Adjacent(int node) => _adjacency[node];

    /// <summary>The same graph with one link's capacity changed, at the next version.</summary>
    public SiteTopology WithLink(TopologyLink link) =>
        new(Nodes, Links.Select(l => l.Index == link.Index ? link : l), Version + 1, Source);

    /// <summary>The same graph without one link, at the next version.</summary>
    public SiteTopology WithoutLink(int index) =>
        new(Nodes, Links.Where(l => l.Index != index).Select((l, i) => l with { Index = i }), Version + 1, Source);
}
