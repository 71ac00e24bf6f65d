// Program.cs - laneshim-manpages OUTDIR REPO VERSION: the three man pages, from the CLI's command definitions and the docs' reference text.
using System.CommandLine;

namespace LaneShim.ManPages;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: laneshim-manpages OUTDIR REPO VERSION (REPO holds README.md and docs/configuration.md)");
            return 2;
        }
        string outDir = args[0], version = args[2];
        string readmePath = Path.Combine(args[1], "README.md"), referencePath = Path.Combine(args[1], "docs", "configuration.md");
        var readme = new MarkdownDocument(File.ReadAllText(readmePath), readmePath);
        var reference = new MarkdownDocument(File.ReadAllText(referencePath), referencePath);
        RootCommand root = LaneShim.Cli.Program.CreateRootCommand();
        Directory.CreateDirectory(outDir);
        var pages = new Dictionary<string, string>
        {
            ["laneshim.1"] = CommandPages.Laneshim(root, readme, reference, version),
            ["laneshim-broker.8"] = CommandPages.Broker(root, reference, version),
            ["lanes.conf.5"] = CommandPages.PolicyFile(reference, version),
        };
        foreach ((string name, string text) in pages)
        {
            File.WriteAllText(Path.Combine(outDir, name), text);
            Console.WriteLine(Path.Combine(outDir, name));
        }
        return 0;
    }
}
