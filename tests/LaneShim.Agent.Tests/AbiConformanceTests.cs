// AbiConformanceTests.cs - the C header and its C# mirror agree on every size, offset and constant.
using LaneShim.Agent.Abi;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Agent.Tests;

[TestClass]
public sealed class AbiConformanceTests
{
    private static Dictionary<string, long> CSide()
    {
        var all = new Dictionary<string, long>(AbiLayout.Describe());
        foreach ((string k, long v) in AbiConstants.ByCName)
        {
            all[k] = v;
        }
        return all;
    }

    private static Dictionary<string, long> CompiledC()
    {
        string dump = Path.Combine(RepoPaths.NativeBuild, "tests", "abi_dump");
        Assert.IsTrue(File.Exists(dump), $"{dump} missing: run ./build.sh");
        ProcessResult r = ProcessRunner.Run(dump, []);
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => long.Parse(p[1].Trim()));
    }

    [TestMethod]
    public void EveryCEntry_HasAnEqualCSharpEntry()
    {
        Dictionary<string, long> c = CompiledC(), cs = CSide();
        string[] wrong = c.Where(kv => !cs.TryGetValue(kv.Key, out long v) || v != kv.Value)
            .Select(kv => $"{kv.Key}: C {kv.Value}, C# {(cs.TryGetValue(kv.Key, out long v) ? v.ToString() : "missing")}")
            .ToArray();
        Assert.IsEmpty(wrong, string.Join("\n", wrong));
    }

    [TestMethod]
    public void EveryCSharpEntry_ExistsInC()
    {
        Dictionary<string, long> c = CompiledC(), cs = CSide();
        string[] extra = cs.Keys.Where(k => !c.ContainsKey(k)).ToArray();
        Assert.IsEmpty(extra, "C# mirrors entries the header does not have: " + string.Join(", ", extra));
        Assert.IsGreaterThan(40, c.Count, "abi_dump printed too little to be a real comparison");
    }
}
