// LabPlanner.cs - turns the settings into the full plan of a lab (names, devices, addresses, link parameters, emulator command lines), with no side effects.
using System.Globalization;

namespace LaneShim.Lab.Lab;

/// <summary>Computes the <see cref="LabState"/> a lab will have; emulator pids are 0 until they start.</summary>
internal static class LabPlanner
{
    public const uint BypassMark = 0x1;
    public const int BypassTable = 100;
    public const int BypassRulePriority = 100;
    public const int MainTable = 254;

    public static LabState Plan(LabSettings s, string linkemu, string ip, DateTimeOffset created)
    {
        LabNamespaces ns = LabNamespaces.For(s.Name);
        string stateDir = LabState.DirectoryFor(s.Name);
        string net = s.Net;
        LabLinkEnd End(string role, string dev, int subnet, int host, int prefix) => new()
        {
            Node = role,
            Namespace = ns.OfRole(role),
            Device = dev,
            Address = $"{net}.{subnet}.{host}",
            PrefixLength = prefix,
        };

        LabLink Veth(string name, LabLinkEnd a, LabLinkEnd b) => new()
        {
            Name = name,
            Kind = LabLink.Veth,
            A = a,
            B = b,
            RateBps = 0,
            CapacityBps = s.LanCapacityBps,
            RttMs = 0,
            Loss = 0,
            QueueBytes = 0,
            Mark = 0,
        };

        LabLink Emulated(string name, LabLinkEnd a, LabLinkEnd b, LabLinkSettings p, uint mark, ulong seed)
        {
            long queue = p.Queue.Resolve(p.RateBps, p.Rtt, s.Mtu);
            TimeSpan oneWay = p.Rtt / 2;
            string pidFile = Path.Combine(stateDir, $"{name}.pid");
            string statsFile = Path.Combine(stateDir, $"{name}.stats.json");
            var command = new List<string>
            {
                ip, "netns", "exec", a.Namespace, linkemu,
                "--a", $"{a.Namespace}:{a.Device}:{a.Cidr}",
                "--b", $"{b.Namespace}:{b.Device}:{b.Cidr}",
                "--delay", LabUnits.EmulatorDuration(oneWay),
                "--rate", $"{p.RateBps.ToString(CultureInfo.InvariantCulture)}bit",
                "--queue", queue.ToString(CultureInfo.InvariantCulture),
                "--loss", p.Loss.ToString("R", CultureInfo.InvariantCulture),
                "--seed", seed.ToString(CultureInfo.InvariantCulture),
                "--mtu", s.Mtu.ToString(CultureInfo.InvariantCulture),
                "--stats", statsFile,
                "--stats-interval", $"{(int)s.StatsInterval.TotalMilliseconds}ms",
                "--pidfile", pidFile,
            };
            if (s.RtPriority > 0)
            {
                command.AddRange(["--rt-priority", s.RtPriority.ToString(CultureInfo.InvariantCulture)]);
            }
            return new LabLink
            {
                Name = name,
                Kind = LabLink.Emulated,
                A = a,
                B = b,
                RateBps = p.RateBps,
                CapacityBps = p.RateBps,
                RttMs = p.Rtt.TotalMilliseconds,
                Loss = p.Loss,
                QueueBytes = queue,
                Mark = mark,
                Emulator = new LabEmulator
                {
                    Pid = 0,
                    PidFile = pidFile,
                    StatsFile = statsFile,
                    StatsIntervalMs = (int)s.StatsInterval.TotalMilliseconds,
                    LogFile = Path.Combine(stateDir, $"{name}.log"),
                    Seed = seed,
                    Command = command,
                },
            };
        }

        LabLink clientEdge = Veth("client-edgea", End("client", "c0", 1, 2, 24), End("edgea", "ea0", 1, 1, 24));
        LabLink path1 = Emulated("path1", End("edgea", "p1a", 11, 1, 30), End("mbox", "p1m", 11, 2, 30), s.Path1, 0, s.Seed);
        LabLink mboxEdge = Veth("mbox-edgeb", End("mbox", "m1", 12, 1, 24), End("edgeb", "eb1", 12, 2, 24));
        LabLink path2 = Emulated("path2", End("edgea", "p2a", 21, 1, 30), End("edgeb", "p2b", 21, 2, 30), s.Path2, BypassMark, unchecked(s.Seed + 1));
        LabLink serverEdge = Veth("edgeb-server", End("edgeb", "eb0", 2, 1, 24), End("server", "s0", 2, 2, 24));

        return new LabState
        {
            Name = s.Name,
            Net = s.Net,
            StateDirectory = stateDir,
            Created = created,
            Mtu = s.Mtu,
            Namespaces = ns,
            ClientAddress = clientEdge.A.Address,
            ServerAddress = serverEdge.B.Address,
            Links = [clientEdge, path1, mboxEdge, path2, serverEdge],
            Path1 = new LabPath
            {
                Name = "path1",
                Mark = 0,
                Table = MainTable,
                RateBps = s.Path1.RateBps,
                RttMs = s.Path1.Rtt.TotalMilliseconds,
                Loss = s.Path1.Loss,
                Links = [path1.Name, mboxEdge.Name],
                EdgeADevice = path1.A.Device,
                EdgeBDevice = mboxEdge.B.Device,
                Devices = new Dictionary<string, IReadOnlyList<string>>
                {
                    [ns.EdgeA] = [path1.A.Device],
                    [ns.Mbox] = [path1.B.Device, mboxEdge.A.Device],
                    [ns.EdgeB] = [mboxEdge.B.Device],
                },
            },
            Path2 = new LabPath
            {
                Name = "path2",
                Mark = BypassMark,
                Table = BypassTable,
                RateBps = s.Path2.RateBps,
                RttMs = s.Path2.Rtt.TotalMilliseconds,
                Loss = s.Path2.Loss,
                Links = [path2.Name],
                EdgeADevice = path2.A.Device,
                EdgeBDevice = path2.B.Device,
                Devices = new Dictionary<string, IReadOnlyList<string>>
                {
                    [ns.EdgeA] = [path2.A.Device],
                    [ns.EdgeB] = [path2.B.Device],
                },
            },
            Steering = new LabSteering
            {
                Routers = [ns.EdgeA, ns.EdgeB],
                Family = "inet",
                Table = "laneshim",
                Set = "lanes4",
                Mark = BypassMark,
                Mask = BypassMark,
                RouteTable = BypassTable,
                RulePriority = BypassRulePriority,
            },
            Middlebox = new LabMiddlebox
            {
                Namespace = ns.Mbox,
                Type = "firewall",
                Family = "inet",
                Table = "mbox",
                ForwardedCounter = "forwarded",
                NewFlowsCounter = "new_flows",
            },
            TopologyFile = Path.Combine(stateDir, LabState.TopologyFileName),
            Linkemu = linkemu,
            HostTcpBufferMax = s.HostTcpBufferMax,
            Notes =
            [
                $"tcp_rmem maximum raised to {s.HostTcpBufferMax} bytes in {ns.Client} and {ns.Server} only; their senders are stock Linux " +
                $"(tcp_wmem {LabSettings.StockTcpWmem}, congestion control {LabSettings.StockCongestion}, which is added to the global " +
                "net.ipv4.tcp_allowed_congestion_control when missing, since only an allowed algorithm may be a namespace's default); " +
                "net.core.rmem_max/wmem_max are global (not per namespace) and were left as they are: " +
                "a program that sets SO_RCVBUF/SO_SNDBUF itself is capped there unless it has CAP_NET_ADMIN",
            ],
        };
    }
}
