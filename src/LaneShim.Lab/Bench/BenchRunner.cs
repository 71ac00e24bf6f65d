// BenchRunner.cs - runs the chosen suites in order, turns a failed suite into missing figures, writes the results and prints the table.
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LaneShim.Lab.Bench;

/// <summary>One harness run. A suite that fails never stops the others; its figures are reported with the reason.</summary>
internal sealed class BenchRunner(BenchContext context, IReadOnlyList<BenchSuite> suites, string outputDirectory, string command, TextWriter output)
{
    public const int ExitOk = 0;
    public const int ExitInterrupted = 130;

    public int Run()
    {
        var clock = Stopwatch.StartNew();
        var results = new List<BenchResult>();
        bool interrupted = false;
        foreach (BenchSuite suite in suites)
        {
            if (context.Cancel.IsCancellationRequested)
            {
                interrupted = true;
                results.AddRange(suite.Expected(context).Select(e => e with { Value = null, Note = "not run: interrupted" }));
                continue;
            }
            var suiteClock = Stopwatch.StartNew();
            context.Log.WriteLine($"bench: {suite.Key}");
            try
            {
                results.AddRange(suite.Run(context));
            }
            catch (OperationCanceledException) when (context.Cancel.IsCancellationRequested)
            {
                interrupted = true;
                results.AddRange(suite.Expected(context).Select(e => e with { Value = null, Note = "not run: interrupted" }));
            }
            catch (Exception e)
            {
                // Whatever broke one suite (a missing tool, a bad parse), the others still run and this one's figures say why.
                context.Log.WriteLine($"bench: {suite.Key} failed: {e.Message}");
                results.AddRange(suite.Expected(context).Select(x => x with { Value = null, Baseline = null, Ratio = null, Note = $"not measured: {e.Message}" }));
            }
            context.Log.WriteLine($"bench: {suite.Key} took {suiteClock.Elapsed.TotalSeconds:0.0} s");
        }
        double seconds = clock.Elapsed.TotalSeconds;
        string machine = Machine();
        Directory.CreateDirectory(outputDirectory);
        BenchReport.WriteJson(Path.Combine(outputDirectory, "results.json"), machine, command, seconds, results);
        string table = BenchReport.Markdown(machine, command, seconds, results);
        File.WriteAllText(Path.Combine(outputDirectory, "results.md"), table);
        output.WriteLine(table);
        int missed = results.Count(r => !r.Met);
        output.WriteLine($"bench: {results.Count} figures, {results.Count - missed} met, {missed} missed or not measured; {seconds:0} s; {Path.Combine(outputDirectory, "results.json")}");
        return interrupted ? ExitInterrupted : ExitOk;
    }

    /// <summary>"host: CPU model, N cores, kernel X, RAM" for results.json's machine field.</summary>
    public static string Machine()
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }
        string kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription;
        double ramGb = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9;
        return $"{Environment.MachineName}: {cpu}, {Environment.ProcessorCount} cores, {ramGb:0} GB, Linux {kernel}";
    }
}
