// LabRulesets.cs - the nftables rulesets of the lab: the edge routers' lane set and mark, the middlebox's counting firewall.
namespace LaneShim.Lab.Lab;

/// <summary>nft -f input for the routers and the middlebox.</summary>
internal static class LabRulesets
{
    /// <summary>
    /// An edge router: packets whose 5-tuple is in the set get the bypass mark in prerouting, before the routing
    /// decision, so `ip rule fwmark` sends them to path 2. The broker adds and removes the set's elements.
    /// </summary>
    public static string Edge(LabSteering s) =>
        $$"""
        table {{s.Family}} {{s.Table}} {
        	set {{s.Set}} {
        		type ipv4_addr . inet_service . ipv4_addr . inet_service
        		flags timeout
        	}
        	chain pre {
        		type filter hook prerouting priority mangle; policy accept;
        		ip saddr . tcp sport . ip daddr . tcp dport @{{s.Set}} counter meta mark set 0x{{s.Mark:x}}
        	}
        }

        """;

    /// <summary>
    /// The middlebox: a stateful firewall that counts every packet it forwards (the evidence that a flow took
    /// path 1) and every new flow. It drops nothing: mid-flow asymmetry while a lane is set up must not cut a flow.
    /// </summary>
    public static string Middlebox(LabMiddlebox m) =>
        $$"""
        table {{m.Family}} {{m.Table}} {
        	counter {{m.ForwardedCounter}} {
        	}
        	counter {{m.NewFlowsCounter}} {
        	}
        	chain forward {
        		type filter hook forward priority filter; policy accept;
        		counter name "{{m.ForwardedCounter}}"
        		ct state established,related accept
        		ct state new counter name "{{m.NewFlowsCounter}}" accept
        	}
        }

        """;
}
