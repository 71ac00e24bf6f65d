// LabQueue.cs - the tail-drop limit of an emulated link: a size, or a multiple of the link's bandwidth-delay product.
using System.Globalization;
using LaneShim.Core;

namespace LaneShim.Lab.Lab;

/// <summary>A queue limit: <see cref="Bytes"/> when <see cref="BdpMultiple"/> is 0, else that many BDPs of the link.</summary>
internal readonly record struct LabQueue(long Bytes, double BdpMultiple)
{
    /// <summary>1.5 BDP: room for one TCP flow's sawtooth without the queue adding more than half an RTT of delay.</summary>
    public static LabQueue Default => new(0, 1.5);

    /// <summary>"1.5bdp", "750K", "7.5MB", "0" (no limit); throws <see cref="FormatException"/>.</summary>
    public static LabQueue Parse(string text)
    {
        string t = text.Trim();
        if (t.EndsWith("bdp", StringComparison.OrdinalIgnoreCase))
        {
            string number = t[..^3].Trim();
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double multiple) || !(multiple > 0) || multiple > 1000)
            {
                throw new FormatException($"bad queue '{text}': a BDP multiple must be a number in (0, 1000], e.g. 1.5bdp");
            }
            return new LabQueue(0, multiple);
        }
        if (!Units.TryParseSize(t, out long bytes, out string error))
        {
            throw new FormatException($"{error}, or a multiple of the link's BDP such as 1.5bdp");
        }
        return new LabQueue(bytes, 0);
    }

    /// <summary>The limit in bytes for a link of this rate and RTT; at least four packets, so a small BDP still passes a burst.</summary>
    public long Resolve(ulong rateBps, TimeSpan rtt, int mtu)
    {
        if (BdpMultiple == 0)
        {
            return Bytes;
        }
        double bdp = rateBps * rtt.TotalSeconds / 8;
        return Math.Max((long)(BdpMultiple * bdp), 4L * mtu);
    }

    public override string ToString() => BdpMultiple > 0
        ? BdpMultiple.ToString(CultureInfo.InvariantCulture) + "bdp"
        : Bytes.ToString(CultureInfo.InvariantCulture);
}
