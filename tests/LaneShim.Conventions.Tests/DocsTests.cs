// DocsTests.cs - the README stays a front page, every docs page is reachable and every link lands, and the commands the
// docs show are ones the CLI accepts.
using System.Text.RegularExpressions;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Conventions.Tests;

[TestClass]
public sealed partial class DocsTests
{
    private static readonly string[] Pages =
        ["architecture.md", "configuration.md", "operations.md", "security.md", "lab-and-demo.md", "benchmarks.md", "testing.md"];

    [TestMethod]
    public void Readme_IsAtMost12500Bytes()
    {
        long size = new FileInfo(RepoPaths.File("README.md")).Length;
        Assert.IsLessThanOrEqualTo(12_500L, size, "README.md is the front page; reference belongs in docs/");
    }

    [TestMethod]
    public void Readme_LinksEveryDocsPageAndTheChangelog()
    {
        string readme = File.ReadAllText(RepoPaths.File("README.md"));
        foreach (string page in Pages)
        {
            Assert.IsTrue(File.Exists(RepoPaths.File("docs", page)), $"docs/{page} is missing");
            StringAssert.Contains(readme, $"(docs/{page})", $"README.md does not link docs/{page}");
        }
        StringAssert.Contains(readme, "(CHANGELOG.md)");
    }

    [TestMethod]
    public void EveryRelativeLink_LandsOnAFileAndHeading()
    {
        var broken = new List<string>();
        foreach (string file in MarkdownFiles())
        {
            string text = File.ReadAllText(file);
            foreach (Match link in LinkPattern().Matches(text))
            {
                string target = link.Groups[1].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }
                string[] parts = target.Split('#', 2);
                string path = parts[0].Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, parts[0]));
                if (!File.Exists(path) && !Directory.Exists(path))
                {
                    broken.Add($"{Relative(file)}: {target} (no such file)");
                }
                else if (parts.Length == 2 && File.Exists(path) && !Anchors(File.ReadAllText(path)).Contains(parts[1]))
                {
                    broken.Add($"{Relative(file)}: {target} (no such heading)");
                }
            }
        }
        Assert.IsEmpty(broken, string.Join("\n", broken));
    }

    [TestMethod]
    public void CommandsInTheDocs_NameVerbsAndOptionsTheCliHas()
    {
        var wrong = new List<string>();
        var help = new Dictionary<string, string>();
        int checkedCommands = 0;
        foreach (string file in MarkdownFiles())
        {
            foreach ((string program, string verb, string[] options) in Commands(File.ReadAllText(file)))
            {
                checkedCommands++;
                string binary = program == "laneshim" ? RepoPaths.Cli : RepoPaths.Lab;
                string key = $"{program} {verb}";
                if (!help.TryGetValue(key, out string? text))
                {
                    ProcessResult r = ProcessRunner.Run(binary, [.. verb.Split(' '), "--help"], timeout: TimeSpan.FromSeconds(60));
                    text = help[key] = r.ExitCode == 0 ? r.Stdout : "";
                }
                if (text.Length == 0)
                {
                    wrong.Add($"{Relative(file)}: `{key}` is not a verb of {program}");
                    continue;
                }
                wrong.AddRange(options.Where(o => !text.Contains(o, StringComparison.Ordinal)).Select(o => $"{Relative(file)}: `{key}` has no option {o}"));
            }
        }
        Assert.IsEmpty(wrong, string.Join("\n", wrong));
        Assert.IsGreaterThanOrEqualTo(15, checkedCommands, "the docs show at least the run, broker, status, doctor, install and lab commands");
    }

    // `laneshim VERB [SUBVERB] --opt ...` lines inside ```sh blocks; what follows `--` is the wrapped program's.
    private static IEnumerable<(string Program, string Verb, string[] Options)> Commands(string markdown)
    {
        foreach (Match block in ShellBlockPattern().Matches(markdown))
        {
            string joined = block.Groups[1].Value.Replace("\\\n", " ", StringComparison.Ordinal);
            foreach (string raw in joined.Split('\n'))
            {
                string line = raw.Split(" #", 2)[0];
                Match m = CommandPattern().Match(line);
                if (!m.Success)
                {
                    continue;
                }
                string program = m.Groups[1].Value;
                string[] words = m.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                int end = Array.IndexOf(words, "--");
                words = end >= 0 ? words[..end] : words;
                string verb = words[0];
                if (program == "laneshim-lab" && words.Length > 1 && words[0] == "lab" && !words[1].StartsWith('-'))
                {
                    verb = $"lab {words[1]}";
                }
                string[] options = [.. words.Where(w => w.StartsWith("--", StringComparison.Ordinal)).Select(w => w.Split('=')[0])];
                yield return (program, verb, options);
            }
        }
    }

    // GitHub's anchors: lower case, punctuation other than '-' and '_' dropped, spaces to '-'.
    private static HashSet<string> Anchors(string markdown) =>
        [.. markdown.Split('\n').Where(l => l.StartsWith('#')).Select(l => AnchorDrop().Replace(l.TrimStart('#').Trim().ToLowerInvariant(), "").Replace(' ', '-'))];

    private static IEnumerable<string> MarkdownFiles() =>
        [RepoPaths.File("README.md"), RepoPaths.File("CHANGELOG.md"), .. Directory.GetFiles(RepoPaths.File("docs"), "*.md")];

    private static string Relative(string file) => Path.GetRelativePath(RepoPaths.Root, file);

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShellBlockPattern();

    [GeneratedRegex(@"(?:^|\s|/)(laneshim|laneshim-lab) ([a-z].*)$")]
    private static partial Regex CommandPattern();

    [GeneratedRegex(@"[^a-z0-9 _-]")]
    private static partial Regex AnchorDrop();
}
