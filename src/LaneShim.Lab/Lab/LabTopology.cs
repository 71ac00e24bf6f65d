// LabTopology.cs - renders a lab as the broker's line-based topology file (node and link lines).
using System.Text;

namespace LaneShim.Lab.Lab;

/// <summary>The topology file of a lab: hosts, routers and the middlebox, links with capacity, one-way latency, loss and the bypass mark.</summary>
internal static class LabTopology
{
    public static string Render(LabState lab)
    {
        var text = new StringBuilder();
        text.Append("# LaneShim lab topology (laneshim-lab lab up writes this file for its own parameters).\n");
        text.Append("# Path 1, the default route, crosses the middlebox (the campus firewall); path 2 is the bypass\n");
        text.Append($"# (Science DMZ) the edge routers send a flow over when it is in their lanes4 set (mark 0x{lab.Steering.Mark:x}).\n");
        text.Append($"# Latency is one way. Generated for lab '{lab.Name}'.\n");
        LabNamespaces ns = lab.Namespaces;
        text.Append($"node client host addr={lab.ClientAddress} netns={ns.Client}\n");
        text.Append($"node edgea router netns={ns.EdgeA}\n");
        text.Append($"node mbox middlebox type={lab.Middlebox.Type} netns={ns.Mbox}\n");
        text.Append($"node edgeb router netns={ns.EdgeB}\n");
        text.Append($"node server host addr={lab.ServerAddress} netns={ns.Server}\n");
        foreach (LabLink link in lab.Links)
        {
            text.Append($"link {link.A.Node} {link.B.Node} capacity={LabUnits.TopologyRate(link.CapacityBps)} ");
            text.Append($"latency={LabUnits.TopologyDuration(TimeSpan.FromMilliseconds(link.RttMs) / 2)}");
            if (link.Loss > 0)
            {
                text.Append($" loss={LabUnits.Percent(link.Loss)}");
            }
            if (link.Mark != 0)
            {
                text.Append($" mark=0x{link.Mark:x}");
            }
            text.Append('\n');
        }
        return text.ToString();
    }
}
