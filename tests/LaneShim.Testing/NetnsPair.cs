// NetnsPair.cs - two network namespaces joined by a veth pair: the smallest real network a test can own.
namespace LaneShim.Testing;

/// <summary>Namespaces `ls{id}a` and `ls{id}b` with 10.77.{n}.1 and .2 (and fd77::{n}:1/2); deleted on dispose.</summary>
public sealed class NetnsPair : IDisposable
{
    private static int _counter;

    public NetnsPair()
    {
        int n = (Environment.ProcessId * 7 + Interlocked.Increment(ref _counter)) % 250 + 1;
        string id = $"{Environment.ProcessId % 10000}x{n}";
        A = $"ls{id}a";
        B = $"ls{id}b";
        AddressA = $"10.77.{n}.1";
        AddressB = $"10.77.{n}.2";
        Address6A = $"fd77::{n:x}:1";
        Address6B = $"fd77::{n:x}:2";
        string va = $"v{id}a", vb = $"v{id}b";
        Dispose();
        Ip("netns", "add", A);
        Ip("netns", "add", B);
        Ip("link", "add", va, "netns", A, "type", "veth", "peer", "name", vb, "netns", B);
        foreach ((string ns, string dev, string v4, string v6) in new[] { (A, va, AddressA, Address6A), (B, vb, AddressB, Address6B) })
        {
            Ip("-n", ns, "link", "set", "lo", "up");
            Ip("-n", ns, "addr", "add", $"{v4}/24", "dev", dev);
            Ip("-n", ns, "addr", "add", $"{v6}/64", "dev", dev, "nodad");
            Ip("-n", ns, "link", "set", dev, "up");
        }
    }

    public string A { get; }

    public string B { get; }

    public string AddressA { get; }

    public string AddressB { get; }

    public string Address6A { get; }

    public string Address6B { get; }

    /// <summary>The argument list that runs <paramref name="args"/> inside namespace <paramref name="ns"/>.</summary>
    public static string[] Exec(string ns, params string[] args) => ["netns", "exec", ns, .. args];

    public void Dispose()
    {
        foreach (string ns in new[] { A, B })
        {
            if (ns is null)
            {
                continue;
            }
            ProcessRunner.Shell($"ip netns pids {ns} 2>/dev/null | xargs -r kill -9; ip netns del {ns} 2>/dev/null");
        }
    }

    private static void Ip(params string[] args) => ProcessRunner.Check("/sbin/ip", args);
}
