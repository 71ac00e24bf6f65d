// BpfLayoutTests.cs - the C# mirror of bpf/laneshim_bpf.h has the C layout: a C program built from the header prints
// every struct's size and every field's offset, and the loader library reports the sizes it was built with.
using System.Runtime.InteropServices;
using LaneShim.Broker.Bpf;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Broker.Tests.Bpf;

[TestClass]
public sealed class BpfLayoutTests
{
    private static readonly (string Struct, Type Type, string[] Fields)[] Structs =
    [
        ("laneshim_bpf_prefix_key", typeof(BpfPrefixKey), ["prefixlen:PrefixLength", "addr:Address"]),
        ("laneshim_bpf_rule", typeof(BpfRule), ["action:Action", "class_index:ClassIndex", "directions:Directions", "port_range_count:PortRangeCount",
            "uid_range_count:UidRangeCount", "line:Line", "port_lo:PortLo", "port_hi:PortHi", "uid_lo:UidLo", "uid_hi:UidHi"]),
        ("laneshim_bpf_class", typeof(BpfClassSettings), ["sndbuf:Sndbuf", "rcvbuf:Rcvbuf", "pacing:Pacing", "mark:Mark", "priority:Priority", "lowat:Lowat", "tos:Tos", "flags:Flags", "cc:Congestion"]),
        ("laneshim_bpf_config", typeof(BpfConfig), ["enabled:Enabled", "rule_count:RuleCount", "no_dst_mask:NoDestinationMask", "default_cc:DefaultCongestion", "broker_tgid:BrokerTgid"]),
        ("laneshim_bpf_event", typeof(BpfEvent), ["kind:Kind", "flags:Flags", "cookie:Cookie", "cgroup_id:CgroupId", "local:Local", "remote:Remote", "local_port:LocalPort",
            "remote_port:RemotePort", "family:Family", "pid:Pid", "uid:Uid", "gid:Gid", "class_index:ClassIndex", "rule_index:RuleIndex", "applied:Applied", "user_set:UserSet",
            "srtt_us:SrttUs", "min_rtt_us:MinRttUs", "total_retrans:TotalRetrans", "snd_cwnd:SndCwnd", "mss:Mss", "rate_delivered:RateDelivered", "rate_interval_us:RateIntervalUs",
            "segs_out:SegsOut", "data_segs_out:DataSegsOut", "bytes_acked:BytesAcked", "bytes_received:BytesReceived", "duration_ns:DurationNs", "comm:Comm"]),
    ];

    [TestMethod]
    public void EveryStructAndField_HasTheCLayout()
    {
        Privileges.RequireProgram("/usr/bin/gcc");
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-layout-").FullName;
        try
        {
            var source = new System.Text.StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include \"laneshim_bpf.h\"\nint main(void) {\n");
            foreach ((string name, _, string[] fields) in Structs)
            {
                source.Append($"printf(\"{name} %zu\\n\", sizeof(struct {name}));\n");
                foreach (string field in fields)
                {
                    string member = field.Split(':')[0];
                    source.Append($"printf(\"{name}.{member} %zu\\n\", offsetof(struct {name}, {member}));\n");
                }
            }
            source.Append("return 0; }\n");
            File.WriteAllText(Path.Combine(dir, "layout.c"), source.ToString());
            ProcessRunner.Check("/usr/bin/gcc", "-I", RepoPaths.File("bpf"), "-o", Path.Combine(dir, "layout"), Path.Combine(dir, "layout.c"));
            Dictionary<string, long> c = ProcessRunner.Run(Path.Combine(dir, "layout"), []).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
            foreach ((string name, Type type, string[] fields) in Structs)
            {
                Assert.AreEqual(c[name], Marshal.SizeOf(type), $"sizeof(struct {name})");
                foreach (string field in fields)
                {
                    string[] pair = field.Split(':');
                    Assert.AreEqual(c[$"{name}.{pair[0]}"], (long)Marshal.OffsetOf(type, FieldName(type, pair[1])), $"{name}.{pair[0]}");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void TheLoaderLibrary_WasBuiltWithTheSameSizes()
    {
        string library = Path.Combine(RepoPaths.Out, "lib", "liblaneshim-bpf.so");
        if (!File.Exists(library))
        {
            Assert.Fail($"{library} is missing: run ./build.sh");
        }
        BpfProgram.UseLibraryDirectory(Path.GetDirectoryName(library)!);
        Type[] types = [typeof(BpfPrefixKey), typeof(BpfRule), typeof(BpfClassSettings), typeof(BpfConfig), typeof(BpfEvent)];
        for (int i = 0; i < types.Length; i++)
        {
            Assert.AreEqual(Marshal.SizeOf(types[i]), BpfProgram.NativeSizeOf(i), types[i].Name);
        }
    }

    // A fixed buffer compiles to a field named <Name>e__FixedBuffer; OffsetOf wants the declared name.
    private static string FieldName(Type type, string field) => type.GetField(field) is not null ? field : throw new AssertFailedException($"{type.Name} has no field {field}");
}
