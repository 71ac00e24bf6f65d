// SiteInstallTests.cs - `laneshim install --site` / `uninstall --site` end to end: other preload entries kept, byte-exact restore, refusal of a broken shim.
using System.Security.Cryptography;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Cli.Tests.Site;

[TestClass]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SiteInstallTests
{
    private const string Entry = "/usr/local/lib/laneshim/lib/liblaneshim.so";
    private const string OtherPreloads = "# site preloads\n/usr/lib/libother.so\t/usr/lib/libthird.so"; // no final newline on purpose

    private static ProcessResult Laneshim(params string[] args) => ProcessRunner.Run(RepoPaths.Cli, args, timeout: TimeSpan.FromSeconds(120));

    [TestMethod]
    public void InstallTwiceThenUninstall_UnderRoot_KeepsOtherEntriesAndRestoresByteForByte()
    {
        string root = Directory.CreateTempSubdirectory("laneshim-site-").FullName;
        try
        {
            Write(root, "etc/ld.so.preload", OtherPreloads, 0b110_100_000);
            Write(root, "etc/laneshim/lanes.conf", "class mine rate=10gbit rtt=5ms\nrule -> mine\n", 0b110_100_100);
            Write(root, "etc/systemd/system/laneshim-broker.service", "[Service]\nExecStart=/opt/old/laneshim broker\n", 0b110_100_100);
            Directory.CreateDirectory(Path.Combine(root, "usr/local/bin"));
            File.CreateSymbolicLink(Path.Combine(root, "usr/local/bin/laneshim"), "/opt/old/laneshim");
            if (Privileges.IsRoot)
            {
                // Owners come back too: a unit file and a symlink owned by someone else.
                ProcessRunner.Check("/bin/chown", "1234:2345", Path.Combine(root, "etc/systemd/system/laneshim-broker.service"));
                ProcessRunner.Check("/bin/chown", "-h", "4321:5432", Path.Combine(root, "usr/local/bin/laneshim"));
            }
            Dictionary<string, string> before = Snapshot(root);

            ProcessResult first = Laneshim("install", "--site", "--root", root);
            Assert.AreEqual(0, first.ExitCode, first.Describe());
            ProcessResult second = Laneshim("install", "--site", "--root", root);
            Assert.AreEqual(0, second.ExitCode, second.Describe());

            string preload = File.ReadAllText(Path.Combine(root, "etc/ld.so.preload"));
            Assert.AreEqual(OtherPreloads + "\n" + Entry + "\n", preload, "other entries and comments kept, ours added once");
            Assert.AreEqual(0b110_100_000, (int)File.GetUnixFileMode(Path.Combine(root, "etc/ld.so.preload")), "the preload file keeps its mode");
            Assert.AreEqual("class mine rate=10gbit rtt=5ms\nrule -> mine\n", File.ReadAllText(Path.Combine(root, "etc/laneshim/lanes.conf")), "a site's own policy is never replaced");
            StringAssert.Contains(File.ReadAllText(Path.Combine(root, "etc/laneshim/client.conf")), "broker = unix:/run/laneshim/broker.sock");
            string unit = File.ReadAllText(Path.Combine(root, "etc/systemd/system/laneshim-broker.service"));
            foreach (string line in new[] { "ExecStart=/usr/local/bin/laneshim broker --listen unix:/run/laneshim/broker.sock --policy /etc/laneshim/lanes.conf", "RuntimeDirectory=laneshim", "Restart=on-failure", "LANESHIM_DISABLE=1", "CAP_NET_ADMIN", "CAP_SYS_PTRACE" })
            {
                StringAssert.Contains(unit, line);
            }
            CollectionAssert.AreEqual(File.ReadAllBytes(RepoPaths.Shim), File.ReadAllBytes(Path.Combine(root, "usr/local/lib/laneshim/lib/liblaneshim.so")));
            CollectionAssert.AreEqual(File.ReadAllBytes(RepoPaths.Agent), File.ReadAllBytes(Path.Combine(root, "usr/local/lib/laneshim/lib/liblaneshim-agent.so")));
            Assert.AreEqual("../lib/laneshim/cli/laneshim", new FileInfo(Path.Combine(root, "usr/local/bin/laneshim")).LinkTarget);

            // The installed CLI runs from its symlink, and its `run` finds the installed shim (and agent) in ../lib.
            string installed = Path.Combine(root, "usr/local/bin/laneshim");
            ProcessResult maps = ProcessRunner.Run(installed, ["run", "--", "/bin/cat", "/proc/self/maps"], timeout: TimeSpan.FromSeconds(60));
            Assert.AreEqual(0, maps.ExitCode, maps.Describe());
            StringAssert.Contains(maps.Stdout, Path.Combine(root, "usr/local/lib/laneshim/lib/liblaneshim.so"));

            ProcessResult uninstall = Laneshim("uninstall", "--site", "--root", root);
            Assert.AreEqual(0, uninstall.ExitCode, uninstall.Describe());
            AssertSameTree(before, Snapshot(root));

            ProcessResult again = Laneshim("uninstall", "--site", "--root", root);
            Assert.AreEqual(1, again.ExitCode, again.Describe());
            StringAssert.Contains(again.Stderr, "nothing to uninstall");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("install")]
    [DataRow("uninstall")]
    public void WithoutSite_ExitsTwoAndSaysWhatToAdd(string verb)
    {
        string root = Directory.CreateTempSubdirectory("laneshim-site-").FullName;
        try
        {
            ProcessResult r = Laneshim(verb, "--root", root);
            Assert.AreEqual(2, r.ExitCode, r.Describe());
            StringAssert.Contains(r.Stderr, "--site");
            Assert.IsEmpty(Directory.GetFileSystemEntries(root));
            ProcessResult help = Laneshim(verb, "--help");
            Assert.AreEqual(0, help.ExitCode, help.Describe());
            StringAssert.Contains(help.Stdout, "--root");
            Assert.DoesNotContain("--shim", help.Stdout, "test-only options stay hidden");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void InstallThenUninstall_IntoEmptyRoot_LeavesNothingBehindAndAbsentPreloadAbsent()
    {
        string root = Directory.CreateTempSubdirectory("laneshim-site-").FullName;
        try
        {
            ProcessResult install = Laneshim("install", "--site", "--root", root);
            Assert.AreEqual(0, install.ExitCode, install.Describe());
            Assert.AreEqual(Entry + "\n", File.ReadAllText(Path.Combine(root, "etc/ld.so.preload")));
            ProcessResult uninstall = Laneshim("uninstall", "--site", "--root", root);
            Assert.AreEqual(0, uninstall.ExitCode, uninstall.Describe());
            Assert.IsFalse(File.Exists(Path.Combine(root, "etc/ld.so.preload")), "absent before, absent after");
            Assert.IsEmpty(Directory.GetFileSystemEntries(root), string.Join(", ", Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories)));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void Uninstall_PreloadEditedSinceInstall_RemovesOnlyOurEntry()
    {
        string root = Directory.CreateTempSubdirectory("laneshim-site-").FullName;
        try
        {
            Write(root, "etc/ld.so.preload", OtherPreloads + "\n", 0b110_100_100);
            Assert.AreEqual(0, Laneshim("install", "--site", "--root", root).ExitCode);
            File.AppendAllText(Path.Combine(root, "etc/ld.so.preload"), "/usr/lib/libnewer.so\n");

            ProcessResult uninstall = Laneshim("uninstall", "--site", "--root", root);
            Assert.AreEqual(0, uninstall.ExitCode, uninstall.Describe());
            Assert.AreEqual(OtherPreloads + "\n/usr/lib/libnewer.so\n", File.ReadAllText(Path.Combine(root, "etc/ld.so.preload")));
            StringAssert.Contains(uninstall.Stdout, "removed only");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("prints", "__attribute__((constructor)) static void broken(void) { printf(\"hello from a broken shim\\n\"); }")]
    [DataRow("crashes", "__attribute__((constructor)) static void broken(void) { raise(SIGSEGV); }")]
    [DataRow("not-a-library", null)]
    public void Install_BrokenShim_RefusesAndLeavesEverythingUntouched(string kind, string? constructor)
    {
        Privileges.RequireProgram("/usr/bin/gcc");
        string root = Directory.CreateTempSubdirectory("laneshim-site-").FullName;
        string build = Directory.CreateTempSubdirectory("laneshim-broken-").FullName;
        try
        {
            string shim = Path.Combine(build, "liblaneshim.so");
            if (constructor is null)
            {
                File.WriteAllText(shim, "this is not an ELF file\n");
            }
            else
            {
                string source = Path.Combine(build, "broken.c");
                File.WriteAllText(source, "#include <signal.h>\n#include <stdio.h>\n" + constructor + "\n");
                ProcessRunner.Check("/usr/bin/gcc", "-shared", "-fPIC", "-o", shim, source);
            }
            Write(root, "etc/ld.so.preload", OtherPreloads, 0b110_100_100);
            Dictionary<string, string> before = Snapshot(root);

            ProcessResult r = Laneshim("install", "--site", "--root", root, "--shim", shim);

            Assert.AreEqual(1, r.ExitCode, $"{kind}: {r.Describe()}");
            StringAssert.Contains(r.Stderr, "refusing to install");
            StringAssert.Contains(r.Stderr, "Nothing was changed");
            AssertSameTree(before, Snapshot(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            Directory.Delete(build, recursive: true);
        }
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void InstallOnLiveRoot_InPrivateMountNamespace_NewProcessesMapTheShimUntilUninstall()
    {
        Privileges.RequireRoot("mount namespaces and overlays over /etc, /usr/local and /var/lib");
        string dir = Directory.CreateTempSubdirectory("laneshim-live-").FullName;
        string realPreload = State("/etc/ld.so.preload");
        try
        {
            ProcessResult r = ProcessRunner.Run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/bash", RepoPaths.File("tests", "site", "install_live.sh"), dir, RepoPaths.Cli],
                timeout: TimeSpan.FromMinutes(4));
            Assert.AreEqual(0, r.ExitCode, r.Describe());
            Dictionary<string, string> facts = r.Stdout.Split('\n').Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
            Assert.AreEqual("0", facts["maps_before"], r.Describe());
            Assert.AreNotEqual("0", facts["maps_installed"], $"after install a new process must map the shim\n{r.Describe()}");
            Assert.AreEqual("0", facts["maps_after"], r.Describe());
            Assert.AreEqual(facts["preload_before"], facts["preload_after"], r.Describe());
            Assert.AreEqual(facts["tree_before"], facts["tree_after"], r.Describe());
            Assert.AreEqual("0", facts["installed_cli"], r.Describe());
            StringAssert.StartsWith(facts["unit_verify"], "0", r.Describe());
            Assert.AreEqual("0", facts["example_broker"], r.Describe());
            Assert.AreEqual(realPreload, State("/etc/ld.so.preload"), "the real /etc was touched");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string State(string path) => File.Exists(path) ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) : "absent";

    private static void Write(string root, string relative, string text, int mode)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, (UnixFileMode)mode);
    }

    /// <summary>Every path under the root: kind, mode, owner, and the bytes' hash or the link target.</summary>
    private static Dictionary<string, string> Snapshot(string root)
    {
        // find prints owners (of symlinks themselves too), which .NET does not expose.
        Dictionary<string, string> owners = ProcessRunner.Check("/usr/bin/find", root, "-mindepth", "1", "-printf", "%P %U:%G\n").Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l[..l.LastIndexOf(' ')], l => l[(l.LastIndexOf(' ') + 1)..]);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var info = new FileInfo(path);
            string relative = Path.GetRelativePath(root, path);
            result[relative] = info.LinkTarget is { } link ? $"link {link}"
                : Directory.Exists(path) ? $"dir {File.GetUnixFileMode(path)}"
                : $"file {File.GetUnixFileMode(path)} {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))}";
            result[relative] += $" owner {owners[relative]}";
        }
        return result;
    }

    private static void AssertSameTree(Dictionary<string, string> expected, Dictionary<string, string> actual)
    {
        var differences = expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal)
            .Where(k => expected.GetValueOrDefault(k) != actual.GetValueOrDefault(k))
            .Select(k => $"{k}: before {expected.GetValueOrDefault(k) ?? "absent"}, after {actual.GetValueOrDefault(k) ?? "absent"}").ToList();
        Assert.IsEmpty(differences, string.Join('\n', differences));
    }
}
