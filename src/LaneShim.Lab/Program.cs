// Program.cs - `laneshim-lab`: the proving ground's entry point (lab, demo, bench); each verb lives in Commands/.
using System.CommandLine;
using LaneShim.Lab.Commands;

namespace LaneShim.Lab;

internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("LaneShim's proving ground: an emulated campus WAN (lab), legacy data movers over it (demo) and the benchmark harness (bench). Not for production hosts.")
        {
            LabCommand.Create(),
            DemoCommand.Create(),
            BenchCommand.Create(),
        };
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
