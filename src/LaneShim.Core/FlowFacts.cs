// FlowFacts.cs - what the policy matches on: the flow's endpoints, direction and the program behind it.
using System.Net;

namespace LaneShim.Core;

/// <summary>The facts about one flow that policy rules match on.</summary>
/// <param name="RemoteAddress">The peer's address; null for listening sockets.</param>
/// <param name="RemotePort">The peer's port; 0 for listening sockets.</param>
/// <param name="LocalPort">The local port; 0 when not yet bound.</param>
/// <param name="Direction">Outbound, inbound or listen.</param>
/// <param name="ProgramPath">The program's executable path; empty when unknown.</param>
/// <param name="Uid">The program's user id.</param>
/// <param name="Gid">The program's group id.</param>
public sealed record FlowFacts(
    IPAddress? RemoteAddress,
    int RemotePort,
    int LocalPort,
    FlowDirection Direction,
    string ProgramPath,
    uint Uid,
    uint Gid)
{
    /// <summary>
    /// The identities of a remote caller authenticated by mutual TLS (<c>CN=...</c> and <c>DNS=...</c> from its certificate);
    /// null for local callers, whose uid and gid the kernel vouches for instead.
    /// </summary>
    public IReadOnlyList<string>? Principals { get; init; }

    /// <summary>
    /// The port that names the service: the remote port of an outbound flow, the local port of an
    /// inbound flow or listening socket. Rules' <c>port=</c> matches this.
    /// </summary>
    public int ServicePort => Direction == FlowDirection.Outbound ? RemotePort : LocalPort;

    /// <summary>"10.20.1.5:5201", "[2001:db8::1]:5201" or "listening port 5201", for messages.</summary>
    public string DescribeEndpoint()
    {
        if (Direction == FlowDirection.Listen || RemoteAddress is null)
        {
            return $"listening port {LocalPort}";
        }

        IPAddress address = RemoteAddress.IsIPv4MappedToIPv6 ? RemoteAddress.MapToIPv4() : RemoteAddress;
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{address}]:{RemotePort}"
            : $"{address}:{RemotePort}";
    }
}
