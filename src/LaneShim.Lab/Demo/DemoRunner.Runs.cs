// DemoRunner.Runs.cs - the runs: for each mover plain, laneshim, hand-tuned; a server per run; a progress line as each starts and ends.
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

internal sealed partial class DemoRunner
{
    private DemoReport RunAll(DemoContext context)
    {
        var plan = new List<(Mover Mover, DemoMode Mode)>();
        foreach (Mover mover in movers)
        {
            foreach (DemoMode mode in DemoModeNames.All)
            {
                if (mode != DemoMode.HandTuned || mover.NoHandTuning is null)
                {
                    plan.Add((mover, mode));
                }
            }
        }
        var runs = new List<DemoRun>();
        for (int i = 0; i < plan.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            (Mover mover, DemoMode mode) = plan[i];
            string tag = $"[{(i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(2)}/{plan.Count}] {mover.Name,-12} {mode.Name(),-10}";
            if (mode == DemoMode.Plain)
            {
                output.WriteLine($"{mover.Describe(context)}");
            }
            DemoRun run = _unavailable.TryGetValue(mover.Name, out string? why)
                ? new DemoRun(mover.Name, mode, 0, 0, false, why)
                : RunGuarded(context, mover, mode, tag);
            string result = run.Ok
                ? $"{DemoFormat.Mbps(run.Mbps)} ({DemoFormat.Fixed(run.Mbps / context.LineRateMbps * 100)}% of line rate) in {DemoFormat.Seconds(run.Seconds)}"
                : $"FAILED: {run.Note}";
            output.WriteLine($"{tag} done:  {result}");
            runs.Add(run);
        }
        return new DemoReport(context.LineRateMbps, context.RttMs, runs, context.LabDefaultCc);
    }

    /// <summary>One run; whatever goes wrong in it (short of an interrupt) is that run's failure, and the demo goes on.</summary>
    private DemoRun RunGuarded(DemoContext context, Mover mover, DemoMode mode, string tag)
    {
        try
        {
            return RunOne(context, mover, mode, tag);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new DemoRun(mover.Name, mode, 0, 0, false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private DemoRun RunOne(DemoContext context, Mover mover, DemoMode mode, string tag)
    {
        IReadOnlyList<string> client = mover.Client(mode, context);
        output.WriteLine($"{tag} start: {Shorten(DemoFormat.Command(client), context)}");
        var notes = new List<string>();
        if (mode == DemoMode.Laneshim && _unwrappable.TryGetValue(mover.Name, out string? unwrappable))
        {
            notes.Add(unwrappable);
        }
        if (mode == DemoMode.Laneshim && _broker?.Running != true)
        {
            return new DemoRun(mover.Name, mode, 0, 0, false, "the broker is not running (see its log)");
        }
        DemoServer server;
        try
        {
            server = DemoServer.Start(context, mover.Server(mode, context), wrapped: mode == DemoMode.Laneshim,
                Path.Combine(context.MoverDirectory(mover.Name), $"server-{mode.Name()}.log"), cancel);
        }
        catch (Exception e) when (e is DemoException or LabException or IOException)
        {
            return new DemoRun(mover.Name, mode, 0, 0, false, e.Message);
        }
        string shimLog = Path.Combine(context.MoverDirectory(mover.Name), $"shim-{mode.Name()}.log");
        ClientOutcome outcome;
        PathEvidence before, after;
        ServerSide? serverSide = null;
        int grantsBefore = _broker?.Grants() ?? 0;
        try
        {
            EmptyDestination(context); // an earlier run that failed half-way may have left its copy
            using BypassRoute? route = mode == DemoMode.HandTuned ? BypassRoute.Install(context.Lab) : null;
            using IDisposable? tuning = mode == DemoMode.HandTuned ? mover.HandTune(context) : null;
            before = PathEvidence.Read(context.Lab);
            using ServerSideProbe? probe = mode == DemoMode.Laneshim ? ServerSideProbe.Start(context, server.Wrapped) : null;
            outcome = ClientRunner.Run(context.ClientCommand(mode, client, mover.KernelPath), mover.Limit(mode, context), () => mover.BytesMoved(context), cancel, ShimLog(mode, shimLog));
            serverSide = probe?.Stop();
            after = PathEvidence.Read(context.Lab);
        }
        catch (LabException e)
        {
            return new DemoRun(mover.Name, mode, 0, 0, false, e.Message);
        }
        finally
        {
            if (server.Stop() is string problem)
            {
                notes.Add(problem);
            }
            NamespaceProcesses.Stop(context.Lab.Namespaces.Client, []);
        }
        Goodput goodput;
        try
        {
            goodput = mover.Measure(mode, outcome, context);
        }
        finally
        {
            EmptyDestination(context);
        }
        if (!goodput.Ok && server.LogTail() is { } serverSaid && serverSaid != "(no output)")
        {
            notes.Add($"server log: {serverSaid}");
        }
        string setup = mover.Setup(mode, context);
        var all = new List<string> { goodput.Note };
        if (setup.Length > 0)
        {
            all.Add(setup);
        }
        all.Add(after.Minus(before).Describe());
        if (mode == DemoMode.Laneshim)
        {
            int grants = (_broker?.Grants() ?? 0) - grantsBefore;
            all.Add(grants > 0 ? $"{grants} lane(s) granted" : $"no lane granted by the demo's broker (shim: {ShimSaid(shimLog)})");
            all.Add(settings.DeadlineMs is int ms ? $"laneshim run --deadline-ms {DemoFormat.Invariant(ms)}" : "the shim's default deadline");
        }
        if (mode == DemoMode.Laneshim && mover.Cap(context) is ProtocolCap cap)
        {
            all.Add($"protocol limit {DemoFormat.Mbps(cap.Mbps)}");
        }
        if (serverSide is not null)
        {
            all.Add($"server {(serverSide.Wrapped ? "under laneshim run" : "plain")}: {serverSide.Describe()}");
        }
        all.AddRange(notes);
        return new DemoRun(mover.Name, mode, Math.Round(goodput.Mbps, 1), Math.Round(goodput.Seconds, 2), goodput.Ok, string.Join("; ", all), goodput.TimeLimited)
        {
            Server = serverSide,
        };
    }

    /// <summary>In laneshim mode the shim logs (info) to a file, so a run without a lane can say why.</summary>
    private static Dictionary<string, string>? ShimLog(DemoMode mode, string file) =>
        mode == DemoMode.Laneshim ? new() { ["LANESHIM_LOG"] = "info", ["LANESHIM_LOG_FILE"] = file } : null;

    /// <summary>The shim's last words about brokers and lanes, for a laneshim run that got none.</summary>
    private static string ShimSaid(string file)
    {
        try
        {
            string? line = File.ReadLines(file).LastOrDefault(l => l.Contains("broker", StringComparison.OrdinalIgnoreCase) || l.Contains("lane", StringComparison.OrdinalIgnoreCase));
            return line?.Trim() ?? "nothing logged";
        }
        catch (IOException)
        {
            return "no log";
        }
    }

    private static void EmptyDestination(DemoContext context) => SafeDelete.Contents(context.DestinationDirectory);

    /// <summary>The command for the progress line, with the work directory shortened to $WORK.</summary>
    private static string Shorten(string command, DemoContext context) => command.Replace(context.WorkDirectory, "$WORK", StringComparison.Ordinal);
}
