// KernelDecision.cs - what the sock_ops program decides for a flow from a compiled map image, step for step as the C does
// it (longest-prefix match, then the first rule of the mask that matches direction, port and uid), for the compiler tests.
using System.Net;
using LaneShim.Broker.Bpf;
using LaneShim.Core;

namespace LaneShim.Broker.Tests.Bpf;

internal static class KernelDecision
{
    /// <summary>"class NAME", "deny", "userspace" or "none", as the kernel would decide.</summary>
    public static unsafe string Decide(BpfMapImage image, FlowFacts flow)
    {
        ulong mask = image.NoDestinationMask;
        if (flow.Direction != FlowDirection.Listen)
        {
            byte[] key = BpfPolicyCompiler.KeyOf(flow.RemoteAddress!);
            int best = -1;
            foreach ((byte[] address, int length, ulong m) in image.Prefixes)
            {
                if (length > best && Covers(address, length, key))
                {
                    best = length;
                    mask = m;
                }
            }
        }
        uint direction = flow.Direction switch
        {
            FlowDirection.Outbound => BpfLayout.DirectionOut,
            FlowDirection.Inbound => BpfLayout.DirectionIn,
            _ => BpfLayout.DirectionListen,
        };
        for (int i = 0; i < image.Rules.Count; i++)
        {
            if ((mask & (1UL << i)) == 0)
            {
                continue;
            }
            BpfRule rule = image.Rules[i];
            if ((rule.Directions & direction) == 0 || !PortMatches(rule, flow.ServicePort) || !UidMatches(rule, flow.Uid))
            {
                continue;
            }
            return rule.Action switch
            {
                BpfLayout.ActionClass => "class " + image.ClassNames[(int)rule.ClassIndex],
                BpfLayout.ActionDeny => "deny",
                _ => "userspace",
            };
        }
        return "none";
    }

    private static unsafe bool PortMatches(BpfRule rule, int port)
    {
        if (rule.PortRangeCount == 0)
        {
            return true;
        }
        for (int i = 0; i < rule.PortRangeCount; i++)
        {
            if (port >= rule.PortLo[i] && port <= rule.PortHi[i])
            {
                return true;
            }
        }
        return false;
    }

    private static unsafe bool UidMatches(BpfRule rule, uint uid)
    {
        if (rule.UidRangeCount == 0)
        {
            return true;
        }
        for (int i = 0; i < rule.UidRangeCount; i++)
        {
            if (uid >= rule.UidLo[i] && uid <= rule.UidHi[i])
            {
                return true;
            }
        }
        return false;
    }

    private static bool Covers(byte[] network, int length, byte[] address)
    {
        for (int bit = 0; bit < length; bit++)
        {
            int mask = 0x80 >> (bit % 8);
            if ((network[bit / 8] & mask) != (address[bit / 8] & mask))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The user-space policy's verdict in the same words.</summary>
    public static string UserSpace(Policy policy, FlowFacts flow)
    {
        PolicyDecision d = policy.Decide(flow);
        return d.Verdict switch
        {
            PolicyVerdict.Grant => "class " + d.LaneClass!.Name,
            PolicyVerdict.Deny => "deny",
            _ => "none",
        };
    }

    /// <summary>A flow's facts.</summary>
    public static FlowFacts Flow(string remote, int port, FlowDirection direction = FlowDirection.Outbound, uint uid = 1000, string program = "/usr/bin/rclone") =>
        new(direction == FlowDirection.Listen ? null : IPAddress.Parse(remote), direction == FlowDirection.Outbound ? port : 40000,
            direction == FlowDirection.Outbound ? 40000 : port, direction, program, uid, uid);
}
