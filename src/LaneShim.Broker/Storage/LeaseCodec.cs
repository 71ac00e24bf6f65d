// LeaseCodec.cs - a lease as stored rows: the Lease protobuf message as the body, links as text, times as Unix ms.
using System.Globalization;
using System.Text;
using Google.Protobuf;
using LaneShim.Broker.Leases;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Storage;

/// <summary>Encodes and decodes what both SQL stores keep per lease.</summary>
internal static class LeaseCodec
{
    /// <summary>The Lease message (flow, program, grant, applied, granted time).</summary>
    public static byte[] Body(LeaseEntry entry)
    {
        // The entry's messages are never mutated after they are stored, so they are serialized without copies.
        var lease = new Lease { LeaseId = entry.Id, Flow = entry.Flow, Program = entry.Program, Grant = entry.Grant, GrantedUnixMs = entry.GrantedAt.ToUnixTimeMilliseconds() };
        if (entry.Applied is not null)
        {
            lease.Applied = entry.Applied;
        }
        if (entry.Principal is not null)
        {
            lease.Principal = entry.Principal;
        }
        return lease.ToByteArray();
    }

    /// <summary>One line per link: capacity TAB key TAB name.</summary>
    public static string Links(IReadOnlyList<LinkDemand> links)
    {
        var text = new StringBuilder();
        foreach (LinkDemand link in links)
        {
            text.Append(link.CapacityBps.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(link.Key).Append('\t').Append(link.Name).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The entry back from its columns.</summary>
    public static LeaseEntry Decode(byte[] body, long expiresMs, long ttlMs, string links)
    {
        Lease lease = Lease.Parser.ParseFrom(body);
        var demands = new List<LinkDemand>();
        foreach (string line in links.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split('\t', 3);
            demands.Add(new LinkDemand(parts[1], parts[2], ulong.Parse(parts[0], CultureInfo.InvariantCulture)));
        }
        return new LeaseEntry(
            lease.LeaseId,
            lease.Flow ?? new Flow(),
            lease.Program ?? new LaneShim.Protocol.V1.Program(),
            lease.Grant ?? new LaneGrant(),
            lease.Applied,
            DateTimeOffset.FromUnixTimeMilliseconds(lease.GrantedUnixMs),
            DateTimeOffset.FromUnixTimeMilliseconds(expiresMs),
            TimeSpan.FromMilliseconds(ttlMs))
        {
            Links = demands,
            Principal = lease.Principal.Length > 0 ? lease.Principal : null,
        };
    }
}
