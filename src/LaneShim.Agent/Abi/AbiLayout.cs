// AbiLayout.cs - sizes and field offsets of the C# ABI mirrors, keyed like native/build/tests/abi_dump prints them.
using System.Runtime.CompilerServices;

namespace LaneShim.Agent.Abi;

/// <summary>Reports the managed layout of every ABI struct for the conformance test.</summary>
internal static unsafe class AbiLayout
{
    /// <summary>`sizeof.NAME` and `offsetof.NAME.field` entries, named as in C.</summary>
    public static IReadOnlyDictionary<string, long> Describe()
    {
        var d = new Dictionary<string, long>();
        LaneshimAgentConfig c = default;
        Add(d, "laneshim_agent_config", sizeof(LaneshimAgentConfig), (byte*)&c,
            ("abi_version", (nint)(&c.AbiVersion)), ("deadline_ms", (nint)(&c.DeadlineMs)), ("log_level", (nint)(&c.LogLevel)),
            ("log_fd", (nint)(&c.LogFd)), ("flags", (nint)(&c.Flags)),
            ("reserved", (nint)(&c.Reserved)), ("broker", (nint)(&c.Broker)), ("program", (nint)(&c.Program)));
        LaneshimFlow f = default;
        Add(d, "laneshim_flow", sizeof(LaneshimFlow), (byte*)&f,
            ("fd", (nint)(&f.Fd)), ("direction", (nint)(&f.Direction)), ("flags", (nint)(&f.Flags)), ("family", (nint)(&f.Family)),
            ("local_port", (nint)(&f.LocalPort)), ("remote_port", (nint)(&f.RemotePort)), ("reserved", (nint)(&f.Reserved)),
            ("local_addr", (nint)(f.LocalAddr)), ("remote_addr", (nint)(f.RemoteAddr)), ("app_sndbuf", (nint)(&f.AppSndbuf)),
            ("app_rcvbuf", (nint)(&f.AppRcvbuf)), ("budget_us", (nint)(&f.BudgetUs)));
        LaneshimOutcome o = default;
        Add(d, "laneshim_outcome", sizeof(LaneshimOutcome), (byte*)&o,
            ("applied", (nint)(&o.Applied)), ("sndbuf", (nint)(&o.Sndbuf)), ("rcvbuf", (nint)(&o.Rcvbuf)), ("tos", (nint)(&o.Tos)),
            ("pacing_rate", (nint)(&o.PacingRate)), ("mark", (nint)(&o.Mark)), ("reserved", (nint)(&o.Reserved)),
            ("congestion", (nint)(o.Congestion)));
        return d;
    }

    private static void Add(Dictionary<string, long> d, string name, int size, byte* start, params (string Field, nint Address)[] fields)
    {
        d[$"sizeof.{name}"] = size;
        foreach ((string field, nint address) in fields)
        {
            d[$"offsetof.{name}.{field}"] = (byte*)address - start;
        }
    }
}
