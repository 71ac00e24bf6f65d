// LabBuilder.cs - `lab up`: builds the namespaces, veth pairs, emulated links, routes, rules, sysctls and nftables of a lab, then proves it forwards.
using System.Diagnostics;
using System.Globalization;
using LaneShim.Cli.Native;

namespace LaneShim.Lab.Lab;

/// <summary>Brings a planned lab up; on any failure tears down what it built and throws <see cref="LabException"/>.</summary>
internal sealed class LabBuilder(LabState plan, TextWriter progress, CancellationToken interrupted)
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PingDeadline = TimeSpan.FromSeconds(10);

    /// <summary>Builds the lab; returns its state with the emulators' pids (also saved as lab.json).</summary>
    public LabState Up()
    {
        try
        {
            Directory.CreateDirectory(LabState.StateRoot);
            Directory.CreateDirectory(plan.StateDirectory);
            Step("namespaces and veth pairs");
            CreateNamespacesAndVeths();
            Step("link emulators");
            LabState state = StartEmulators();
            Step("addresses, routes and rules");
            ConfigureInterfaces();
            ConfigureRoutes();
            Step("sysctls");
            ConfigureSysctls();
            Step("nftables");
            LabTools.InNamespace("nftables in edgea", plan.Namespaces.EdgeA, LabTools.Nft, ["-f", "-"], LabRulesets.Edge(plan.Steering));
            LabTools.InNamespace("nftables in edgeb", plan.Namespaces.EdgeB, LabTools.Nft, ["-f", "-"], LabRulesets.Edge(plan.Steering));
            LabTools.InNamespace("nftables in mbox", plan.Namespaces.Mbox, LabTools.Nft, ["-f", "-"], LabRulesets.Middlebox(plan.Middlebox));
            Step("verifying both paths with ping");
            Verify(state);
            File.WriteAllText(state.TopologyFile, LabTopology.Render(state));
            state.Save();
            return state;
        }
        catch (Exception e)
        {
            // Whatever went wrong, leave nothing half-built behind.
            LabTeardownResult down = LabTeardown.Down(plan.Name);
            string cleanup = down.Problems.Count == 0
                ? "everything it had built was removed"
                : "cleaning up also failed: " + string.Join("; ", down.Problems);
            string what = e is LabException or IOException or UnauthorizedAccessException ? e.Message : e.ToString();
            throw new LabException($"{what}\n({cleanup})");
        }
    }

    private void Step(string what)
    {
        ThrowIfInterrupted();
        progress.WriteLine($"lab {plan.Name}: {what}");
    }

    private void ThrowIfInterrupted()
    {
        if (interrupted.IsCancellationRequested)
        {
            throw new LabException("interrupted");
        }
    }

    private void CreateNamespacesAndVeths()
    {
        var root = new List<string>();
        foreach (string n in plan.Namespaces.All)
        {
            root.Add($"netns add {n}");
        }
        foreach (LabLink link in plan.Links.Where(l => l.Kind == LabLink.Veth))
        {
            // Created straight into the namespaces: no name is ever taken in the root namespace, so labs can coexist.
            root.Add($"link add {link.A.Device} netns {link.A.Namespace} mtu {plan.Mtu} type veth peer name {link.B.Device} netns {link.B.Namespace} mtu {plan.Mtu}");
        }
        LabTools.IpBatch("creating namespaces and veth pairs", null, root);
    }

    private LabState StartEmulators()
    {
        var started = new Dictionary<string, int>();
        foreach (LabLink link in plan.Links.Where(l => l.Emulator is not null))
        {
            LabEmulator e = link.Emulator!;
            File.Delete(e.LogFile);
            started[link.Name] = ChildProcess.StartDetached(e.Command, e.LogFile, message => new LabException(message)).Pid;
        }
        var sw = Stopwatch.StartNew();
        var waiting = new HashSet<string>(started.Keys);
        while (waiting.Count > 0)
        {
            foreach (string name in waiting.ToList())
            {
                LabEmulator e = plan.Link(name).Emulator!;
                string log = ReadLog(e.LogFile);
                if (log.Split('\n').Any(l => l.Trim() == "ready"))
                {
                    waiting.Remove(name);
                    continue;
                }
                string? ended = ChildProcess.Reap(started[name]);
                if (ended is not null || !ProcessTable.IsAlive(started[name]))
                {
                    throw new LabException($"the emulator of {name} ended ({ended ?? "gone"}) before it was ready; its output:\n{Tail(log)}");
                }
            }
            if (waiting.Count > 0)
            {
                ThrowIfInterrupted();
                if (sw.Elapsed > ReadyDeadline)
                {
                    string name = waiting.First();
                    throw new LabException($"the emulator of {name} did not print 'ready' within {ReadyDeadline.TotalSeconds:0} s; its output:\n{Tail(ReadLog(plan.Link(name).Emulator!.LogFile))}");
                }
                Thread.Sleep(20); // polling interval, not a wait for readiness
            }
        }
        return plan with
        {
            Links = plan.Links.Select(l => l.Emulator is null ? l : l with { Emulator = l.Emulator with { Pid = started[l.Name] } }).ToList(),
        };
    }

    private void ConfigureInterfaces()
    {
        foreach (string n in plan.Namespaces.All)
        {
            var commands = new List<string> { "link set lo up" };
            foreach (LabLinkEnd end in VethEnds().Where(e => e.Namespace == n))
            {
                commands.Add($"addr add {end.Cidr} dev {end.Device}");
                commands.Add($"link set {end.Device} up");
            }
            LabTools.IpBatch($"addresses in {n}", n, commands);
        }
    }

    private void ConfigureRoutes()
    {
        LabNamespaces ns = plan.Namespaces;
        string net = plan.Net;
        string clientNet = $"{net}.1.0/24", serverNet = $"{net}.2.0/24";
        LabLink p1 = plan.Link("path1"), hop2 = plan.Link("mbox-edgeb"), p2 = plan.Link("path2");
        LabLink clientLink = plan.Link("client-edgea"), serverLink = plan.Link("edgeb-server");
        LabSteering s = plan.Steering;
        string rule = $"rule add fwmark 0x{s.Mark:x}/0x{s.Mask:x} lookup {s.RouteTable} priority {s.RulePriority}";
        var routes = new Dictionary<string, string[]>
        {
            [ns.Client] = [$"route add default via {clientLink.B.Address}"],
            [ns.Server] = [$"route add default via {serverLink.A.Address}"],
            [ns.Mbox] =
            [
                $"route add {clientNet} via {p1.A.Address} dev {p1.B.Device}",
                $"route add {serverNet} via {hop2.B.Address} dev {hop2.A.Device}",
            ],
            // Path 1 is the main table; path 2 is table 100, chosen by the mark the lanes4 set gives a flow.
            [ns.EdgeA] =
            [
                $"route add {serverNet} via {p1.B.Address} dev {p1.A.Device}",
                $"route add {Network(hop2.A)} via {p1.B.Address} dev {p1.A.Device}",
                $"route add {serverNet} via {p2.B.Address} dev {p2.A.Device} table {s.RouteTable}",
                rule,
            ],
            [ns.EdgeB] =
            [
                $"route add {clientNet} via {hop2.A.Address} dev {hop2.B.Device}",
                $"route add {Network(p1.B)} via {hop2.A.Address} dev {hop2.B.Device}",
                $"route add {clientNet} via {p2.A.Address} dev {p2.B.Device} table {s.RouteTable}",
                rule,
            ],
        };
        foreach ((string n, string[] commands) in routes)
        {
            LabTools.IpBatch($"routes in {n}", n, commands);
        }
    }

    private void ConfigureSysctls()
    {
        AllowStockCongestion();
        LabNamespaces ns = plan.Namespaces;
        string max = plan.HostTcpBufferMax.ToString(CultureInfo.InvariantCulture);
        foreach (string n in ns.All)
        {
            // Steered flows are asymmetric for a moment (one direction on path 2, the other still on path 1):
            // reverse-path filtering would drop them, so it is off everywhere, per device too (the kernel uses the maximum).
            var keys = new List<string> { "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.lo.rp_filter=0" };
            foreach (LabLinkEnd end in plan.Links.SelectMany(l => new[] { l.A, l.B }).Where(e => e.Namespace == n))
            {
                keys.Add($"net.ipv4.conf.{end.Device}.rp_filter=0");
            }
            if (n == ns.EdgeA || n == ns.Mbox || n == ns.EdgeB)
            {
                keys.Add("net.ipv4.ip_forward=1");
            }
            if (n == ns.Client || n == ns.Server)
            {
                // Per namespace: receive autotuning may grow to the link's BDP; no cached ssthresh from one run to the next.
                // The sender is a stock Linux host (cubic, tcp_wmem max 4 MiB), as the hosts LaneShim is for are, so a
                // lane's congestion control and send buffer differ from a plain socket's where the kernel shows them.
                keys.Add($"net.ipv4.tcp_rmem=4096 131072 {max}");
                keys.Add($"net.ipv4.tcp_wmem={LabSettings.StockTcpWmem}");
                keys.Add($"net.ipv4.tcp_congestion_control={LabSettings.StockCongestion}");
                keys.Add("net.ipv4.tcp_no_metrics_save=1");
            }
            LabTools.InNamespace($"sysctls in {n}", n, LabTools.Sysctl, ["-q", "-w", .. keys]);
        }
    }

    // Only the host's allowed algorithms may be a namespace's default (others: EPERM). The list is global: the stock
    // algorithm is added to it, never removed (another lab may rely on it); it only lets programs choose it too.
    private static void AllowStockCongestion()
    {
        const string Key = "net.ipv4.tcp_allowed_congestion_control";
        string allowed = LabTools.Check($"reading {Key}", LabTools.Sysctl, ["-n", Key]).Trim();
        if (!allowed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(LabSettings.StockCongestion))
        {
            LabTools.Check($"adding {LabSettings.StockCongestion} to {Key}", LabTools.Sysctl, ["-q", "-w", $"{Key}={allowed} {LabSettings.StockCongestion}"]);
        }
    }

    private void Verify(LabState state)
    {
        LabNamespaces ns = state.Namespaces;
        // Path 1 end to end (client, edgea, path 1, mbox, edgeb, server and back), then path 2: edgea pings the
        // server with the bypass mark, so the fwmark rule, table 100, path 2 and edgeb's return over it are all used.
        Ping("client to server over path 1", ns.Client, state.ServerAddress, mark: null);
        Ping("edgea to server over path 2 (mark 0x1)", ns.EdgeA, state.ServerAddress, mark: state.Steering.Mark);
    }

    private void Ping(string what, string netns, string address, uint? mark)
    {
        var sw = Stopwatch.StartNew();
        ToolOutput last;
        do
        {
            string[] args = mark is uint m
                ? ["netns", "exec", netns, LabTools.Ping, "-n", "-q", "-c", "1", "-W", "1", "-m", m.ToString(CultureInfo.InvariantCulture), address]
                : ["netns", "exec", netns, LabTools.Ping, "-n", "-q", "-c", "1", "-W", "1", address];
            last = LabTools.Run(LabTools.Ip, args, deadline: TimeSpan.FromSeconds(5));
            if (last.ExitCode == 0)
            {
                return;
            }
            ThrowIfInterrupted();
        }
        while (sw.Elapsed < PingDeadline);
        throw new LabException($"no answer to ping {what} ({address} from {netns}) within {PingDeadline.TotalSeconds:0} s:\n{Tail(last.Stdout + last.Stderr)}");
    }

    private IEnumerable<LabLinkEnd> VethEnds() => plan.Links.Where(l => l.Kind == LabLink.Veth).SelectMany(l => new[] { l.A, l.B });

    private static string Network(LabLinkEnd end)
    {
        byte[] a = System.Net.IPAddress.Parse(end.Address).GetAddressBytes();
        uint value = (uint)(a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]);
        uint mask = end.PrefixLength == 0 ? 0 : uint.MaxValue << (32 - end.PrefixLength);
        uint n = value & mask;
        return $"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}/{end.PrefixLength}";
    }

    private static string ReadLog(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    private static string Tail(string text, int lines = 12)
    {
        if (text.Trim().Length == 0)
        {
            return "  (nothing)";
        }
        string[] all = text.TrimEnd().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)).Select(l => "  " + l));
    }
}
