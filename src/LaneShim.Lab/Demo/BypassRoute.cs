// BypassRoute.cs - a static route over the bypass for everything between client and server, while it is held.
using System.Globalization;
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>
/// What a network engineer would do by hand for an expert's transfer, and what ping needs to measure the bypass:
/// an `ip rule` at each edge router sending client-server traffic (both directions) to path 2's routing table.
/// <see cref="Dispose"/> removes both rules.
/// </summary>
internal sealed class BypassRoute : IDisposable
{
    /// <summary>Before the lab's own fwmark rule (100), after the local table.</summary>
    private const int Priority = 90;
    private readonly LabState _lab;
    private readonly List<string> _installed = [];

    private BypassRoute(LabState lab) => _lab = lab;

    /// <summary>Installs the rules; throws <see cref="LabException"/> (with nothing left installed) when it cannot.</summary>
    public static BypassRoute Install(LabState lab)
    {
        var route = new BypassRoute(lab);
        try
        {
            route.Add(lab.Namespaces.EdgeA, lab.ClientAddress, lab.ServerAddress);
            route.Add(lab.Namespaces.EdgeB, lab.ServerAddress, lab.ClientAddress);
            return route;
        }
        catch
        {
            route.Dispose();
            throw;
        }
    }

    private void Add(string router, string from, string to)
    {
        LabTools.Check($"static bypass route in {router}", LabTools.Ip, ["-n", router, "rule", "add", .. Selector(from, to)]);
        _installed.Add(router);
    }

    private string[] Selector(string from, string to) =>
        ["from", from, "to", to, "lookup", _lab.Path2.Table.ToString(CultureInfo.InvariantCulture), "priority", Priority.ToString(CultureInfo.InvariantCulture)];

    public void Dispose()
    {
        foreach (string router in _installed)
        {
            bool edgeA = router == _lab.Namespaces.EdgeA;
            LabTools.Run(LabTools.Ip, ["-n", router, "rule", "del", .. Selector(edgeA ? _lab.ClientAddress : _lab.ServerAddress, edgeA ? _lab.ServerAddress : _lab.ClientAddress)]);
        }
        _installed.Clear();
    }
}
