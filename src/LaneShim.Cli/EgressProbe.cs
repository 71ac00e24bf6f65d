// EgressProbe.cs - the ad-hoc lane's default rate: the speed of the interface that carries the default route.
using System.Globalization;

namespace LaneShim.Cli;

/// <summary>Reads /proc/net/route and /sys/class/net/*/speed.</summary>
internal static class EgressProbe
{
    /// <summary>The default rate for `laneshim run`, in bits per second, and where it came from.</summary>
    public static (ulong RateBps, string Source) DefaultRate()
    {
        foreach (string dev in Candidates())
        {
            string speedFile = $"/sys/class/net/{dev}/speed";
            try
            {
                if (long.TryParse(File.ReadAllText(speedFile).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long mbps) && mbps > 0)
                {
                    return ((ulong)mbps * 1_000_000, $"{speedFile} = {mbps} Mbit/s");
                }
            }
            catch (IOException)
            {
                // virtual devices without a link speed: try the next
            }
        }
        return (1_000_000_000, "no interface reports a speed; assuming 1 Gbit/s");
    }

    /// <summary>The default route's device first, then every other device that is up, loopback last out.</summary>
    private static IEnumerable<string> Candidates()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string[] routes;
        try
        {
            routes = File.ReadAllLines("/proc/net/route");
        }
        catch (IOException)
        {
            routes = [];
        }
        foreach (string line in routes.Skip(1))
        {
            string[] f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 2 && f[1] == "00000000" && seen.Add(f[0]))
            {
                yield return f[0];
            }
        }
        string[] devices;
        try
        {
            devices = Directory.GetDirectories("/sys/class/net").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        }
        catch (IOException)
        {
            devices = [];
        }
        foreach (string dev in devices)
        {
            if (dev != "lo" && seen.Add(dev) && ReadState(dev) == "up")
            {
                yield return dev;
            }
        }
    }

    private static string ReadState(string dev)
    {
        try
        {
            return File.ReadAllText($"/sys/class/net/{dev}/operstate").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }
}
