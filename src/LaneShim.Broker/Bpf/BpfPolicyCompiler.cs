// BpfPolicyCompiler.cs - turns a policy into the kernel's maps: rules that need no per-call identity (dst, port,
// direction, uid) with their classes sized as the broker would size a lane; the rest are left to the broker.
using System.Net;
using System.Net.Sockets;
using LaneShim.Core;

namespace LaneShim.Broker.Bpf;

/// <summary>
/// Compiles a <see cref="Policy"/> into a <see cref="BpfMapImage"/>. First-match order is kept: the kernel walks the
/// rules whose destination covers the flow (the LPM trie's mask for its longest matching prefix) in policy order.
/// A rule that matches on program, gid or a TLS principal becomes a stop sign: when it is the first that could match,
/// the kernel applies nothing and the broker decides from the connect report.
/// </summary>
public static class BpfPolicyCompiler
{
    private static readonly byte[] MappedPrefix = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0];

    /// <summary>
    /// Compiles <paramref name="policy"/> for a host with <paramref name="host"/> limits. Unless
    /// <paramref name="includeLoopback"/>, loopback destinations match no rule (as the shim never gives them lanes).
    /// </summary>
    public static BpfMapImage Compile(Policy policy, HostLimits host, bool includeLoopback = false)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(host);
        var notes = new List<string>();
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var classes = new List<BpfClassSettings>();
        var classNames = new List<string>();
        var rules = new List<BpfRule>();
        var ruleDestinations = new List<IReadOnlyList<Cidr>?>();
        int count = Math.Min(policy.Rules.Count, BpfLayout.MaxRules);
        if (policy.Rules.Count > BpfLayout.MaxRules)
        {
            notes.Add($"{policy.Rules.Count} rules: the kernel evaluates the first {BpfLayout.MaxRules}; flows matching later ones are decided by the broker only");
        }
        for (int i = 0; i < count; i++)
        {
            PolicyRule source = policy.Rules[i];
            BpfRule rule = CompileRule(source, policy.FileName, notes);
            if (rule.Action == BpfLayout.ActionClass)
            {
                LaneClass laneClass = source.LaneClass!;
                if (!classIndex.TryGetValue(laneClass.Name, out int index))
                {
                    if (classes.Count >= BpfLayout.MaxClasses)
                    {
                        notes.Add($"{policy.FileName}:{source.Line}: more than {BpfLayout.MaxClasses} classes; decided by the broker only");
                        rule.Action = BpfLayout.ActionUserspace;
                        rules.Add(rule);
                        ruleDestinations.Add(source.Destinations);
                        continue;
                    }
                    index = classes.Count;
                    classIndex[laneClass.Name] = index;
                    classes.Add(Settings(laneClass, host));
                    classNames.Add(laneClass.Name);
                }
                rule.ClassIndex = (uint)index;
            }
            rules.Add(rule);
            ruleDestinations.Add(source.Destinations);
        }

        ulong noDestination = 0;
        var prefixes = new Dictionary<(string, int), (byte[] Address, int Length)>();
        AddPrefix(prefixes, new byte[16], 0);
        AddPrefix(prefixes, MappedPrefix, 96);
        for (int i = 0; i < rules.Count; i++)
        {
            if (ruleDestinations[i] is not { } destinations)
            {
                noDestination |= 1UL << i;
                continue;
            }
            foreach (Cidr cidr in destinations)
            {
                (byte[] address, int length) = ToKey(cidr);
                AddPrefix(prefixes, address, length);
            }
        }
        if (prefixes.Count > BpfLayout.MaxPrefixes)
        {
            throw new PolicyException(policy.FileName, 0, $"{prefixes.Count} destination prefixes: the kernel lane path holds at most {BpfLayout.MaxPrefixes}");
        }

        var compiled = new List<(byte[], int, ulong)>();
        var loopback = new List<(byte[] Address, int Length)>();
        if (!includeLoopback)
        {
            loopback.Add(ToKey(Cidr.Parse("127.0.0.0/8")));
            loopback.Add(ToKey(Cidr.Parse("::1/128")));
            foreach ((byte[] address, int length) in loopback)
            {
                AddPrefix(prefixes, address, length);
            }
        }
        foreach ((byte[] address, int length) in prefixes.Values)
        {
            if (loopback.Any(l => length >= l.Length && SamePrefix(l.Address, address, l.Length)))
            {
                compiled.Add((address, length, 0));
                continue;
            }
            ulong mask = noDestination;
            for (int i = 0; i < rules.Count; i++)
            {
                if (ruleDestinations[i] is { } destinations && destinations.Any(d => Covers(d, address, length)))
                {
                    mask |= 1UL << i;
                }
            }
            compiled.Add((address, length, mask));
        }

        return new BpfMapImage
        {
            Prefixes = compiled,
            Rules = rules,
            Classes = classes,
            ClassNames = classNames,
            NoDestinationMask = noDestination,
            Notes = notes,
        };
    }

    /// <summary>The class's settings as a grant for a stock socket would carry them (the kernel cannot FORCE buffers).</summary>
    public static unsafe BpfClassSettings Settings(LaneClass laneClass, HostLimits host)
    {
        ArgumentNullException.ThrowIfNull(laneClass);
        ArgumentNullException.ThrowIfNull(host);
        var rtt = new RttChoice(laneClass.Rtt, laneClass.RttMode == RttMode.Learn ? RttSource.Fallback : RttSource.Fixed);
        GrantPlan plan = GrantPlanner.Plan(laneClass, rtt, host with { Privileged = false }, AppBuffers.None);
        var settings = new BpfClassSettings
        {
            Sndbuf = plan.Send.Mode == BufferMode.Autotune ? 0 : (uint)Math.Min(plan.Send.Bytes, int.MaxValue),
            Rcvbuf = plan.Receive.Mode == BufferMode.Autotune ? 0 : (uint)Math.Min(plan.Receive.Bytes, int.MaxValue),
            // bpf_setsockopt takes a 4-byte int; ~0U means unlimited, so the largest real rate is one below it.
            Pacing = (uint)Math.Min(laneClass.PacingBytesPerSecond, uint.MaxValue - 1),
            Mark = laneClass.Mark,
            Priority = (uint)laneClass.Priority,
            Lowat = (uint)Math.Min(laneClass.NotsentLowat, uint.MaxValue),
            Tos = (uint)(laneClass.Dscp << 2),
        };
        if (laneClass.Dscp != 0)
        {
            settings.Flags |= BpfLayout.ClassTos;
        }
        if (laneClass.Mark != 0)
        {
            settings.Flags |= BpfLayout.ClassMark;
        }
        if (laneClass.Priority != 0)
        {
            settings.Flags |= BpfLayout.ClassPriority;
        }
        if (laneClass.Bulk)
        {
            settings.Flags |= BpfLayout.ClassBulk;
        }
        WriteName(settings.Congestion, plan.Congestion);
        return settings;
    }

    /// <summary>Writes <paramref name="name"/> NUL-terminated into a 16-byte field.</summary>
    public static unsafe void WriteName(byte* field, string name)
    {
        var span = new Span<byte>(field, BpfLayout.CcLength);
        span.Clear();
        System.Text.Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, BpfLayout.CcLength - 1)), span);
    }

    private static unsafe BpfRule CompileRule(PolicyRule source, string file, List<string> notes)
    {
        var rule = new BpfRule { Line = (uint)source.Line, Action = source.Action == RuleAction.Deny ? BpfLayout.ActionDeny : BpfLayout.ActionClass };
        rule.Directions = source.Directions is null
            ? BpfLayout.DirectionOut | BpfLayout.DirectionIn | BpfLayout.DirectionListen
            : source.Directions.Aggregate(0u, (bits, d) => bits | d switch
            {
                FlowDirection.Outbound => BpfLayout.DirectionOut,
                FlowDirection.Inbound => BpfLayout.DirectionIn,
                _ => BpfLayout.DirectionListen,
            });
        string? why = null;
        if (source.Programs is not null || source.Gids is not null || source.Principals is not null)
        {
            why = "matches on program, gid or principal, which the kernel cannot see";
        }
        else if (source.Ports is { Count: > BpfLayout.PortRanges })
        {
            why = $"has more than {BpfLayout.PortRanges} port ranges";
        }
        else if (source.Uids is { Count: > BpfLayout.UidRanges })
        {
            why = $"has more than {BpfLayout.UidRanges} uid ranges";
        }
        if (why is not null)
        {
            notes.Add($"{file}:{source.Line}: {why}; its flows are decided by the broker only");
            rule.Action = BpfLayout.ActionUserspace;
            return rule;
        }
        if (source.Ports is { } ports)
        {
            rule.PortRangeCount = (uint)ports.Count;
            for (int i = 0; i < ports.Count; i++)
            {
                rule.PortLo[i] = (ushort)ports[i].First;
                rule.PortHi[i] = (ushort)ports[i].Last;
            }
        }
        if (source.Uids is { } uids)
        {
            rule.UidRangeCount = (uint)uids.Count;
            for (int i = 0; i < uids.Count; i++)
            {
                rule.UidLo[i] = uids[i].First;
                rule.UidHi[i] = uids[i].Last;
            }
        }
        return rule;
    }

    // A CIDR as the trie's key: IPv4 a.b.c.d/n is ::ffff:a.b.c.d/(96+n).
    private static (byte[] Address, int Length) ToKey(Cidr cidr)
    {
        byte[] network = cidr.Network.GetAddressBytes();
        if (cidr.Family == AddressFamily.InterNetwork)
        {
            byte[] mapped = (byte[])MappedPrefix.Clone();
            network.CopyTo(mapped, 12);
            return (mapped, 96 + cidr.PrefixLength);
        }
        return (network, cidr.PrefixLength);
    }

    // Whether every address of the prefix matches the rule's CIDR as user space matches it (IPv6 CIDRs never match IPv4).
    private static bool Covers(Cidr cidr, byte[] address, int length)
    {
        (byte[] network, int cidrLength) = ToKey(cidr);
        if (cidr.Family == AddressFamily.InterNetworkV6 && length >= 96 && address.AsSpan(0, 12).SequenceEqual(MappedPrefix.AsSpan(0, 12)))
        {
            return false;
        }
        if (cidrLength > length)
        {
            return false;
        }
        return SamePrefix(network, address, cidrLength);
    }

    private static bool SamePrefix(byte[] a, byte[] b, int bits)
    {
        for (int i = 0; i < bits; i++)
        {
            int mask = 0x80 >> (i % 8);
            if ((a[i / 8] & mask) != (b[i / 8] & mask))
            {
                return false;
            }
        }
        return true;
    }

    private static void AddPrefix(Dictionary<(string, int), (byte[], int)> prefixes, byte[] address, int length)
    {
        byte[] masked = (byte[])address.Clone();
        for (int i = 0; i < 16; i++)
        {
            int bits = Math.Clamp(length - (i * 8), 0, 8);
            masked[i] &= (byte)(0xff << (8 - bits));
        }
        prefixes.TryAdd((Convert.ToHexString(masked), length), (masked, length));
    }

    /// <summary>The address as the trie holds it (IPv4 mapped), for tests and lookups.</summary>
    public static byte[] KeyOf(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6().GetAddressBytes() : address.GetAddressBytes();
    }
}
