// Cgroup2Tests.cs - the cgroup v2 mount is found from mountinfo in every layout (unified, hybrid, escaped paths, none).
using LaneShim.Broker.Bpf;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Broker.Tests.Bpf;

[TestClass]
public sealed class Cgroup2Tests
{
    [TestMethod]
    [DataRow("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw", "/sys/fs/cgroup/unified")]
    [DataRow("30 24 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate", "/sys/fs/cgroup")]
    [DataRow("30 24 0:26 / /mnt/my\\040cgroups rw - cgroup2 none rw", "/mnt/my cgroups")]
    [DataRow("30 24 0:26 /sub /sys/fs/cgroup rw - cgroup2 cgroup2 rw", null)]
    [DataRow("33 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory", null)]
    public void FindMount_ReadsMountinfo(string line, string? expected)
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "22 1 0:21 / /proc rw - proc proc rw\n" + line + "\n");
            Assert.AreEqual(expected, Cgroup2.FindMount(file));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
