// Program.cs - laneshim-manpages OUTDIR README VERSION: the three man pages, from the CLI's command definitions and the README's reference text.
using System.CommandLine;

namespace LaneShim.ManPages;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: laneshim-manpages OUTDIR README.md VERSION");
            return 2;
        }
        string outDir = args[0], version = args[2];
        var readme = new MarkdownDocument(File.ReadAllText(args[1]), args[1]);
        RootCommand root = LaneShim.Cli.Program.CreateRootCommand();
        Directory.CreateDirectory(outDir);
        var pages = new Dictionary<string, string>
        {
            ["laneshim.1"] = CommandPages.Laneshim(root, readme, version),
            ["laneshim-broker.8"] = CommandPages.Broker(root, readme, version),
            ["lanes.conf.5"] = CommandPages.PolicyFile(readme, version),
        };
        foreach ((string name, string text) in pages)
        {
            File.WriteAllText(Path.Combine(outDir, name), text);
            Console.WriteLine(Path.Combine(outDir, name));
        }
        return 0;
    }
}
