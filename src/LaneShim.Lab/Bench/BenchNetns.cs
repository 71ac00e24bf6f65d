// BenchNetns.cs - the harness's own client/server namespace pair joined by a veth: the smallest real network a connect can cross.
namespace LaneShim.Lab.Bench;

/// <summary>
/// Namespaces <c>{tag}c</c> (client, .1) and <c>{tag}s</c> (server, .2) on 10.213.N.0/24, N from the process id.
/// The client's port range is widened and its TIME_WAIT reused so thousands of connects never run out of ports.
/// </summary>
internal sealed class BenchNetns : IDisposable
{
    public BenchNetns(BenchContext context)
    {
        int n = Environment.ProcessId % 250 + 1;
        Client = $"{context.Tag}c";
        Server = $"{context.Tag}s";
        ClientAddress = $"10.213.{n}.1";
        ServerAddress = $"10.213.{n}.2";
        string vc = $"{context.Tag}v0", vs = $"{context.Tag}v1";
        Dispose();
        try
        {
            Ip("netns", "add", Client);
            Ip("netns", "add", Server);
            Ip("link", "add", vc, "netns", Client, "type", "veth", "peer", "name", vs, "netns", Server);
            foreach ((string ns, string dev, string address) in new[] { (Client, vc, ClientAddress), (Server, vs, ServerAddress) })
            {
                Ip("-n", ns, "link", "set", "lo", "up");
                Ip("-n", ns, "addr", "add", $"{address}/24", "dev", dev);
                Ip("-n", ns, "link", "set", dev, "up");
            }
            BenchProcess.Run([BenchProcess.Ip, "netns", "exec", Client, "/usr/sbin/sysctl", "-q", "-w",
                "net.ipv4.ip_local_port_range=1024 65000", "net.ipv4.tcp_tw_reuse=1"], TimeSpan.FromSeconds(10));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Client { get; }

    public string Server { get; }

    public string ClientAddress { get; }

    public string ServerAddress { get; }

    public void Dispose()
    {
        foreach (string ns in new[] { Client, Server })
        {
            if (ns is null)
            {
                continue;
            }
            foreach (string pid in BenchProcessList(ns))
            {
                BenchProcess.Quiet("/bin/kill", "-9", pid); // only processes inside our own namespace
            }
            BenchProcess.Quiet(BenchProcess.Ip, "netns", "del", ns);
        }
    }

    private static IEnumerable<string> BenchProcessList(string ns)
    {
        try
        {
            return BenchProcess.Run([BenchProcess.Ip, "netns", "pids", ns], TimeSpan.FromSeconds(10)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        catch (BenchException)
        {
            return [];
        }
    }

    private static void Ip(params string[] args) => BenchProcess.Run([BenchProcess.Ip, .. args], TimeSpan.FromSeconds(10));
}
