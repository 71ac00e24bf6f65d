// DemoTargets.cs - the issue's acceptance numbers checked against what the demo measured.
namespace LaneShim.Lab.Demo;

/// <summary>
/// iperf3 -w 64K under laneshim reaches 90% of the lane's line rate; every mover that can be wrapped reaches 0.9x
/// its hand-tuned result and 5x plain, except where its own protocol caps it (scp: OpenSSH's channel window, whatever
/// the socket does); and in every laneshim run the server's end carries its lane too: wrapped, its
/// data socket's congestion control the granted one (not the lab's default) and its send buffer what was granted.
/// </summary>
internal static class DemoTargets
{
    public const double LineRateShare = 0.90;
    public const double HandTunedShare = 0.90;
    public const double PlainFactor = 5.0;
    private const string SmallWindowMover = "iperf3-w64k";

    public static IReadOnlyList<DemoTarget> Evaluate(DemoReport report, IReadOnlyList<Mover> movers, DemoContext context, IReadOnlyDictionary<string, string> unwrappable)
    {
        var targets = new List<DemoTarget>();
        foreach (Mover mover in movers)
        {
            DemoRun? lane = report.Find(mover.Name, DemoMode.Laneshim);
            DemoRun? plain = report.Find(mover.Name, DemoMode.Plain);
            DemoRun? tuned = report.Find(mover.Name, DemoMode.HandTuned);
            if (unwrappable.TryGetValue(mover.Name, out string? why))
            {
                targets.Add(new DemoTarget(mover.Name, "can be wrapped", false, "-", why));
                continue;
            }
            string? cap = CapReason(mover, lane, context);
            targets.Add(ServerEnd(mover.Name, lane, report.LabDefaultCc));
            if (mover.Name == SmallWindowMover)
            {
                targets.Add(lane is { Ok: true }
                    ? new DemoTarget(mover.Name, $"laneshim >= {Percent(LineRateShare)} of line rate", lane.Mbps >= LineRateShare * report.LineRateMbps,
                        $"{DemoFormat.Mbps(lane.Mbps)} = {DemoFormat.Fixed(lane.Mbps / report.LineRateMbps * 100)}% of {DemoFormat.Mbps(report.LineRateMbps)}", cap)
                    : Failed(mover.Name, $"laneshim >= {Percent(LineRateShare)} of line rate", lane));
            }
            if (mover.NoHandTuning is string none)
            {
                targets.Add(new DemoTarget(mover.Name, $"laneshim >= {DemoFormat.Fixed(HandTunedShare)}x hand-tuned", null, "-", $"no hand-tuned run: {none}"));
            }
            else if (lane is { Ok: true } && tuned is { Ok: true })
            {
                double ratio = tuned.Mbps > 0 ? lane.Mbps / tuned.Mbps : double.PositiveInfinity;
                targets.Add(new DemoTarget(mover.Name, $"laneshim >= {DemoFormat.Fixed(HandTunedShare)}x hand-tuned", cap is null ? ratio >= HandTunedShare : null,
                    $"{DemoFormat.Mbps(lane.Mbps)} / {DemoFormat.Mbps(tuned.Mbps)} = {DemoFormat.Fixed(ratio, 2)}x", cap));
            }
            else
            {
                targets.Add(Failed(mover.Name, $"laneshim >= {DemoFormat.Fixed(HandTunedShare)}x hand-tuned", lane is { Ok: true } ? tuned : lane));
            }
            if (lane is { Ok: true } && plain is { Ok: true })
            {
                double factor = plain.Mbps > 0 ? lane.Mbps / plain.Mbps : double.PositiveInfinity;
                targets.Add(new DemoTarget(mover.Name, $"laneshim >= {DemoFormat.Fixed(PlainFactor, 0)}x plain", cap is null ? factor >= PlainFactor : null,
                    $"{DemoFormat.Mbps(lane.Mbps)} / {DemoFormat.Mbps(plain.Mbps)} = {DemoFormat.Fixed(factor)}x", cap));
            }
            else
            {
                targets.Add(Failed(mover.Name, $"laneshim >= {DemoFormat.Fixed(PlainFactor, 0)}x plain", lane is { Ok: true } ? plain : lane));
            }
        }
        return targets;
    }

    // Issue 14: the server's end of a laneshim run has its lane, as the kernel shows it on the data socket.
    private static DemoTarget ServerEnd(string mover, DemoRun? lane, string labDefaultCc)
    {
        const string Requirement = "server end carries the lane";
        if (lane?.Server is not ServerSide server)
        {
            return Failed(mover, Requirement, lane);
        }
        string? problem = server switch
        {
            { Wrapped: false } => "the server was not under laneshim run",
            { Socket: null } => "no data socket was seen on the server",
            { Granted: null } => "the broker granted the server's end nothing",
            { Socket.Congestion: var cc, Granted.Grant.Congestion: var granted } when cc != granted => $"cc {cc}, granted {granted}",
            { Socket.Congestion: var cc } when cc == labDefaultCc => $"cc {cc} is the lab's default: the lane changed nothing",
            { ExpectedSendBuffer: null } => $"the grant left the send buffer to autotuning ({server.Granted.Grant.SndbufMode})",
            { Socket.SendBuffer: var sndbuf, ExpectedSendBuffer: long expected } when sndbuf != expected => $"sndbuf {sndbuf}, granted {expected / 2} (the kernel holds {expected})",
            _ => null,
        };
        string measured = server.Socket is { } s
            ? $"{s.Congestion} (lab default {labDefaultCc}), sndbuf {s.SendBuffer}{(server.ExpectedSendBuffer is long e ? $" = 2 x granted {e / 2}" : "")}{(server.Granted?.By == "listener" ? " (the listener's lane)" : "")}"
            : "-";
        return new DemoTarget(mover, Requirement, problem is null, measured, problem);
    }

    private static DemoTarget Failed(string mover, string requirement, DemoRun? run) =>
        new(mover, requirement, false, "-", run is null ? "not run" : $"the {run.Mode.Name()} run failed: {run.Note}");

    /// <summary>The protocol's own limit (scp: OpenSSH's channel window), which no socket setting lifts: its speed targets do not apply.</summary>
    private static string? CapReason(Mover mover, DemoRun? lane, DemoContext context) =>
        mover.Cap(context) is ProtocolCap cap && lane is { Ok: true }
            ? $"{cap.Why}; measured {DemoFormat.Mbps(lane.Mbps)} under laneshim"
            : null;

    private static string Percent(double share) => $"{DemoFormat.Fixed(share * 100, 0)}%";

    /// <summary>Prints every target, then one line naming those missed.</summary>
    public static void Write(TextWriter output, IReadOnlyList<DemoTarget> targets)
    {
        output.WriteLine();
        output.WriteLine("targets (issues 3 and 14 acceptance):");
        foreach (DemoTarget t in targets)
        {
            string verdict = t.Met switch { true => "met   ", false => "MISSED", null => "n/a   " };
            output.WriteLine($"  {verdict} {t.Mover,-12} {t.Requirement,-32} {t.Measured}");
            if (t.Why is not null && t.Met != true)
            {
                output.WriteLine($"         {"",-12} why: {t.Why}");
            }
        }
        List<DemoTarget> missed = targets.Where(t => t.Met == false).ToList();
        int judged = targets.Count(t => t.Met is not null);
        output.WriteLine(missed.Count == 0
            ? $"all {judged} targets met"
            : $"{judged - missed.Count} of {judged} targets met; missed: {string.Join(", ", missed.Select(t => $"{t.Mover} ({t.Requirement})"))}");
    }
}
