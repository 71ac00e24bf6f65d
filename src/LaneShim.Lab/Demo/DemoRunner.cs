// DemoRunner.cs - the demo from start to end: set up the lab, broker and servers, run every mover three ways, report, tear down.
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>
/// Runs the demo once. Everything it creates is undone at the end, also after a failure or Ctrl-C
/// (<paramref name="cancel"/>). A failed run is recorded and the demo goes on.
/// </summary>
internal sealed partial class DemoRunner(DemoSettings settings, IReadOnlyList<Mover> movers, TextWriter output, CancellationToken cancel)
{
    /// <summary>The demo ran (whether or not every target was met).</summary>
    public const int ExitOk = 0;

    /// <summary>Setup failed (lab, broker, test data): no runs.</summary>
    public const int ExitFailed = 1;

    /// <summary>Interrupted by SIGINT or SIGTERM.</summary>
    public const int ExitInterrupted = 130;

    private readonly CleanupStack _cleanup = new();

    public int Run()
    {
        DemoReport? report = null;
        IReadOnlyList<DemoTarget> targets = [];
        int status = ExitOk;
        try
        {
            DemoContext context = SetUp();
            report = RunAll(context);
            targets = DemoTargets.Evaluate(report, movers, context, _unwrappable);
            Publish(report, context);
        }
        catch (OperationCanceledException)
        {
            output.WriteLine();
            output.WriteLine("demo: interrupted; cleaning up");
            status = ExitInterrupted;
        }
        catch (Exception e) when (e is DemoException or LabException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"laneshim-lab demo: {e.Message}");
            status = ExitFailed;
        }
        finally
        {
            output.WriteLine($"demo: tearing down (servers, broker, lab {settings.Lab.Name}, temporary files)");
            IReadOnlyList<string> problems = _cleanup.RunAll();
            foreach (string p in problems)
            {
                Console.Error.WriteLine($"laneshim-lab demo: cleanup: {p}");
            }
            if (problems.Count == 0)
            {
                output.WriteLine("demo: nothing left behind");
            }
        }
        if (report is not null && status == ExitOk)
        {
            DemoTargets.Write(output, targets);
        }
        return status;
    }
}
