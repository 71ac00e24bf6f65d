// DebianPackageTests.cs - the Debian package: lintian finds no error, and install, broker, lanes, upgrade, remove and purge on an overlay of /.
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Package;

[TestClass]
public sealed class DebianPackageTests
{
    // CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21), CAP_BPF (39): the unit's bounding set.
    private const string UnitCapabilities = "0000008000281000";

    /// <summary>The package `./build.sh package` (run by `./build.sh test`) made.</summary>
    private static string Deb()
    {
        string dir = Path.Combine(RepoPaths.Out, "package");
        string? deb = Directory.Exists(dir) ? Directory.GetFiles(dir, "laneshim_*_amd64.deb").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault() : null;
        return deb ?? throw new AssertFailedException($"no laneshim_*_amd64.deb in {dir}: run ./build.sh package");
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void Lintian_ReportsNoErrorAndNothingIsOverridden()
    {
        Privileges.RequireProgram("/usr/bin/lintian");
        string deb = Deb();
        ProcessResult r = ProcessRunner.Run("/usr/bin/lintian", ["--fail-on", "error", "--show-overrides", deb], timeout: TimeSpan.FromMinutes(8));
        Console.WriteLine(r.Stdout);
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        Assert.IsFalse(r.Stdout.Split('\n').Any(l => l.StartsWith("E:", StringComparison.Ordinal) || l.StartsWith("O:", StringComparison.Ordinal)), r.Describe());
        Assert.IsEmpty(Directory.GetFiles(RepoPaths.File("debian"), "*lintian-overrides*", SearchOption.AllDirectories), "debian/ overrides no lintian tag");
        ProcessResult contents = ProcessRunner.Check("/usr/bin/dpkg-deb", "--contents", deb);
        Assert.DoesNotContain("lintian/overrides", contents.Stdout, "the package overrides no lintian tag");
    }

    [TestMethod]
    [Timeout(900_000, CooperativeCancellation = true)]
    public void Package_InstallBrokerLaneUpgradeRemovePurge_OnAnOverlayOfRoot_LeavesNothingBehind()
    {
        Privileges.RequireRoot("a private mount namespace with an overlay over /, and dpkg in a chroot of it");
        Privileges.RequireProgram("/usr/bin/strace");
        string deb = Deb();
        string dir = Directory.CreateTempSubdirectory("laneshim-package-").FullName;
        string realPreload = File.Exists("/etc/ld.so.preload") ? File.ReadAllText("/etc/ld.so.preload") : "absent";
        try
        {
            // The upgrade: the same files under a higher version, which dpkg replaces as it would any new version's.
            string newDeb = Rebuild(deb, dir, "+rebuild1");
            ProcessResult r = ProcessRunner.Run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/bash",
                RepoPaths.File("tests", "package", "package_live.sh"), dir, deb, newDeb], timeout: TimeSpan.FromMinutes(14));
            Console.WriteLine(r.Stdout);
            Assert.AreEqual(0, r.ExitCode, r.Describe());
            Dictionary<string, string> f = r.Stdout.Split('\n').Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
            string why = r.Describe();

            Assert.AreEqual("0", f["install"], why);
            Assert.AreEqual("/etc/laneshim/client.conf,/etc/laneshim/lanes.conf", f["conffiles"], why);
            foreach (string file in new[] { "/usr/bin/laneshim", "/usr/lib/x86_64-linux-gnu/laneshim/liblaneshim.so", "/usr/lib/x86_64-linux-gnu/laneshim/liblaneshim-agent.so",
                         "/lib/systemd/system/laneshim-broker.service", "/usr/share/man/man1/laneshim.1.gz", "/usr/share/man/man8/laneshim-broker.8.gz", "/usr/share/man/man5/lanes.conf.5.gz" })
            {
                StringAssert.Contains(f["files"], file, why);
            }
            Assert.AreEqual(f["preload_before"], f["preload_after_install"], "the package itself never writes /etc/ld.so.preload\n" + why);
            Assert.AreEqual("0", f["unit_verify"], why);

            Assert.AreEqual("0", f["broker_up"], why);
            Assert.AreEqual(UnitCapabilities, f["broker_capbnd"], why);
            Assert.AreEqual(UnitCapabilities, f["broker_capeff"], "root keeps exactly the bounding set\n" + why);
            Assert.AreEqual("1", f["broker_nnp"], why);
            Assert.AreEqual("/usr/bin/laneshim", f["broker_exe"], why);
            Assert.AreEqual("0", f["run_exit"], why);
            Assert.AreEqual("default", f["run_classes"], "laneshim run got a lane of the packaged lanes.conf's class\n" + why);

            Assert.AreEqual("0", f["reload_good"], why);
            StringAssert.Contains(f["reloaded_classes"], "reloaded", "after `systemctl reload` new lanes come from the new policy\n" + why);
            Assert.AreEqual("0", f["reload_bad_refused"], why);

            Assert.AreEqual("0", f["site_install"], why);
            Assert.AreEqual("/usr/lib/x86_64-linux-gnu/laneshim/liblaneshim.so", f["preload_line"].Trim(), why);
            Assert.AreNotEqual("0", f["site_maps"], why);

            Assert.AreEqual("1", f["holder_lease"], "the preloaded program held a lane before the upgrade\n" + why);
            Assert.AreEqual("0", f["upgrade"], why);
            Assert.EndsWith("+rebuild1", f["version_after"], why);
            Assert.AreEqual("1", f["shim_replaced"], "dpkg put a new file in place (rename), not new bytes into the old one\n" + why);
            Assert.AreEqual("0", f["holder_exit"], "the program that held a lane kept working through the upgrade\n" + why);
            Assert.AreEqual("1", f["holder_done"], why);
            StringAssert.Contains(f["holder_shim_maps"], "(deleted)", "the running program still maps the old shim\n" + why);
            Assert.AreEqual(f["shim_inode"], f["new_process_inode"], "a new process maps the new shim\n" + why);
            Assert.AreEqual("/usr/lib/x86_64-linux-gnu/laneshim/liblaneshim.so", f["preload_after_upgrade"].Trim(), why);

            Assert.AreEqual("0", f["broker_exit"], why);
            Assert.AreEqual("", f["syscalls_outside_filter"], "every system call the broker made passes the unit's SystemCallFilter=\n" + why);
            Assert.AreEqual("0", f["wx_mappings"], "the broker never maps memory writable and executable (MemoryDenyWriteExecute=)\n" + why);
            Assert.AreEqual("0", f["remove"], why);
            Assert.AreEqual(f["preload_before"], f["preload_after_remove"], "remove took the preload entry out first\n" + why);
            Assert.AreEqual("0", f["maps_after_remove"], why);
            Assert.AreEqual("absent", f["cli_after_remove"], why);
            Assert.AreEqual("present", f["conffiles_after_remove"], "remove keeps configuration, purge does not\n" + why);
            Assert.AreEqual("0", f["purge"], why);
            Assert.AreEqual("absent", f["etc_after_purge"], why);
            Assert.AreEqual("absent", f["state_after_purge"], why);
            Assert.AreEqual("0", f["tree_diff"], "purge left the tree as it was before install (apart from /var/lib/dpkg, /var/log, /var/cache)\n" + why);
            Assert.AreEqual(realPreload, File.Exists("/etc/ld.so.preload") ? File.ReadAllText("/etc/ld.so.preload") : "absent", "the real / was touched");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // dpkg-deb -R, a new Version in DEBIAN/control, dpkg-deb -b: a package dpkg treats as an upgrade of the first.
    private static string Rebuild(string deb, string dir, string suffix)
    {
        string tree = Path.Combine(dir, "rebuild");
        ProcessRunner.Check("/usr/bin/dpkg-deb", "-R", deb, tree);
        string control = Path.Combine(tree, "DEBIAN", "control");
        string[] lines = File.ReadAllLines(control);
        string version = lines.Single(l => l.StartsWith("Version: ", StringComparison.Ordinal))["Version: ".Length..];
        File.WriteAllLines(control, lines.Select(l => l.StartsWith("Version: ", StringComparison.Ordinal) ? $"Version: {version}{suffix}" : l));
        string output = Path.Combine(dir, $"laneshim_{version}{suffix}_amd64.deb");
        ProcessRunner.Check("/usr/bin/dpkg-deb", "--root-owner-group", "-Zxz", "-b", tree, output);
        Directory.Delete(tree, recursive: true);
        return output;
    }
}
