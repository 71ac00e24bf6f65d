// RttProbe.cs - measures the lane's round-trip time with ping from client to server over the bypass.
using System.Globalization;
using System.Text.RegularExpressions;
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>ping -c 10 -i 0.2 over a temporary static bypass route; the average RTT in ms.</summary>
internal static partial class RttProbe
{
    public static double Measure(LabState lab)
    {
        using BypassRoute route = BypassRoute.Install(lab);
        string output = LabTools.InNamespace("ping over the bypass", lab.Namespaces.Client, LabTools.Ping,
            ["-c", "10", "-i", "0.2", "-q", "-W", "2", lab.ServerAddress], deadline: TimeSpan.FromSeconds(30));
        Match m = Summary().Match(output);
        if (!m.Success)
        {
            throw new DemoException($"cannot read ping's summary: {output.Trim()}");
        }
        return double.Parse(m.Groups["avg"].Value, CultureInfo.InvariantCulture);
    }

    // rtt min/avg/max/mdev = 40.160/40.722/41.697/0.099 ms
    [GeneratedRegex(@"= (?<min>[\d.]+)/(?<avg>[\d.]+)/(?<max>[\d.]+)/(?<mdev>[\d.]+) ms")]
    private static partial Regex Summary();
}
