// DemoRunner.Publish.cs - after the runs: the table on the terminal, results.json, results.md and throughput.png.
namespace LaneShim.Lab.Demo;

internal sealed partial class DemoRunner
{
    private void Publish(DemoReport report, DemoContext context)
    {
        output.WriteLine();
        DemoTable.Write(output, report, movers, context);
        output.WriteLine();
        Directory.CreateDirectory(settings.OutputDirectory);
        string json = Path.Combine(settings.OutputDirectory, "results.json");
        DemoResultsJson.Write(json, report);
        string markdown = Path.Combine(settings.OutputDirectory, "results.md");
        File.WriteAllText(markdown, DemoTable.Markdown(report, movers, context, "./build.sh demo"));
        CopyLogs(context);
        string png = Path.Combine(settings.OutputDirectory, "throughput.png");
        File.Delete(png);
        string? chartProblem = DemoChart.Render(report, movers, context.WorkDirectory, png);
        output.WriteLine($"demo: wrote {json}, {markdown}{(chartProblem is null ? $", {png}" : "")} and the logs (logs/); {(chartProblem is null ? "" : $"no chart: {chartProblem}")}".TrimEnd(' ', ';'));
    }

    /// <summary>
    /// The broker's log and each mover's logs (servers, shim) go to OUT/logs, since the work directory is deleted at
    /// the end. Only the top level of each directory, never through links: servers leave links to "/" and /proc.
    /// </summary>
    private void CopyLogs(DemoContext context)
    {
        string logs = Path.Combine(settings.OutputDirectory, "logs");
        SafeDelete.Tree(logs);
        var topLevel = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        var sources = new List<string> { context.WorkDirectory };
        sources.AddRange(movers.Select(m => Path.Combine(context.WorkDirectory, m.Name)).Where(Directory.Exists));
        foreach (string dir in sources)
        {
            foreach (string file in Directory.EnumerateFiles(dir, "*.log", topLevel))
            {
                string target = Path.Combine(logs, Path.GetRelativePath(context.WorkDirectory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target, overwrite: true);
            }
        }
    }
}
