// RouteLookup.cs - which interface traffic to a destination leaves by: `ip -j route get`, or the default route.
using System.Globalization;
using System.Text.Json;
using LaneShim.Core.Doctor;

namespace LaneShim.Cli.Doctor;

/// <summary>Route lookups through iproute2's JSON output (rtnetlink underneath), with /proc/net/route as a fallback.</summary>
internal static class RouteLookup
{
    /// <summary>The kernel's route to <paramref name="address"/>.</summary>
    public static EgressPath Get(string address)
    {
        var result = ToolRunner.Run("ip", "-j", "route", "get", address);
        if (result is null)
        {
            return new EgressPath { Destination = address, Error = "ip (iproute2) is not installed" };
        }

        (int exit, string stdout, string stderr) = result.Value;
        if (exit != 0)
        {
            string message = stderr.Trim();
            return new EgressPath { Destination = address, Error = message.Length > 0 ? message : $"ip route get exited {exit}" };
        }

        return FirstRoute(address, stdout) ?? new EgressPath { Destination = address, Error = "no route" };
    }

    /// <summary>The default route (IPv4, else IPv6).</summary>
    public static EgressPath Default()
    {
        foreach (string family in new[] { "-4", "-6" })
        {
            var result = ToolRunner.Run("ip", "-j", family, "route", "show", "default");
            if (result is null)
            {
                return DefaultFromProc();
            }

            if (result.Value.ExitCode == 0 && FirstRoute(EgressPath.DefaultRoute, result.Value.Stdout) is EgressPath path)
            {
                return path;
            }
        }

        return new EgressPath { Destination = EgressPath.DefaultRoute, Error = "no default route" };
    }

    private static EgressPath? FirstRoute(string destination, string json)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            foreach (JsonElement route in doc.RootElement.EnumerateArray())
            {
                string? dev = Text(route, "dev");
                if (dev is null)
                {
                    continue; // blackhole, unreachable and prohibit routes have no device
                }

                int? mtu = null;
                if (route.TryGetProperty("metrics", out JsonElement metrics) && metrics.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement m in metrics.EnumerateArray())
                    {
                        if (m.ValueKind == JsonValueKind.Object && m.TryGetProperty("mtu", out JsonElement v) && v.TryGetInt32(out int n))
                        {
                            mtu = n;
                        }
                    }
                }

                return new EgressPath
                {
                    Destination = destination,
                    Device = dev,
                    Gateway = Text(route, "gateway"),
                    Source = Text(route, "prefsrc"),
                    RouteMtu = mtu,
                };
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    // Without iproute2: the IPv4 default route from /proc/net/route (gateway in little-endian hex).
    private static EgressPath DefaultFromProc()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/net/route").Skip(1))
            {
                string[] f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (f.Length > 7 && f[1] == "00000000" && f[7] == "00000000")
                {
                    string? gateway = uint.TryParse(f[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint g) && g != 0
                        ? new System.Net.IPAddress(g).ToString()
                        : null;
                    return new EgressPath { Destination = EgressPath.DefaultRoute, Device = f[0], Gateway = gateway };
                }
            }
        }
        catch (IOException)
        {
        }

        return new EgressPath { Destination = EgressPath.DefaultRoute, Error = "no default route" };
    }
}
