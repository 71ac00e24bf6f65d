// DoctorBpfTests.cs - `laneshim doctor` says whether this host can run the BPF lane path and what is missing.
using System.Text.Json;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Cli.Tests.Doctor;

[TestClass]
public sealed class DoctorBpfTests
{
    [TestMethod]
    public void Doctor_AsRootOnThisKernel_TheBpfPathIsReady_AndTheKernelAcceptsTheProgram()
    {
        Privileges.RequireRoot("loading the BPF program");
        JsonElement bpf = BpfPath(ProcessRunner.Run(RepoPaths.Cli, ["doctor", "--lane", "1gbit", "--rtt", "40ms", "--json"], timeout: TimeSpan.FromSeconds(60)));
        Assert.IsTrue(bpf.GetProperty("ready").GetBoolean(), bpf.ToString());
        Assert.IsTrue(Check(bpf, "load").GetProperty("ok").GetBoolean(), bpf.ToString());
    }

    [TestMethod]
    public void Doctor_AsAnUnprivilegedUser_SaysThePrivilegesAreMissing()
    {
        Privileges.RequireRoot("setpriv to another user");
        Privileges.RequireProgram("/usr/bin/setpriv");
        ProcessResult r = ProcessRunner.Run("/usr/bin/setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", "--", RepoPaths.Cli, "doctor", "--lane", "1gbit", "--json"],
            new Dictionary<string, string?> { ["HOME"] = "/tmp", ["DOTNET_CLI_HOME"] = "/tmp" }, TimeSpan.FromSeconds(60));
        JsonElement bpf = BpfPath(r);
        Assert.IsFalse(bpf.GetProperty("ready").GetBoolean(), bpf.ToString());
        JsonElement privileges = Check(bpf, "privileges");
        Assert.IsFalse(privileges.GetProperty("ok").GetBoolean(), bpf.ToString());
        Assert.Contains("root", privileges.GetProperty("detail").GetString()!);
        Assert.IsFalse(bpf.GetProperty("checks").EnumerateArray().Any(c => c.GetProperty("name").GetString() == "load"), "an unprivileged doctor tried to load");
    }

    [TestMethod]
    public void Doctor_WithoutTheBuiltProgram_SaysToBuildIt()
    {
        string empty = Directory.CreateTempSubdirectory("laneshim-nolib-").FullName;
        try
        {
            ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["doctor", "--lane", "1gbit", "--json"], new Dictionary<string, string?> { ["LANESHIM_LIB_DIR"] = empty }, TimeSpan.FromSeconds(60));
            JsonElement program = Check(BpfPath(r), "program");
            Assert.IsFalse(program.GetProperty("ok").GetBoolean());
            Assert.Contains("run ./build.sh", program.GetProperty("detail").GetString()!);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    private static JsonElement BpfPath(ProcessResult r)
    {
        Assert.IsTrue(r.ExitCode is 0 or 1, r.Describe());
        return JsonDocument.Parse(r.Stdout).RootElement.GetProperty("bpfPath").Clone();
    }

    private static JsonElement Check(JsonElement bpf, string name) =>
        bpf.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
}
