// BenchSmokeTests.cs - `laneshim-lab bench` in a tiny mode: real runs of the in-process and namespace suites, results.json checked against the schema.
using System.Text.Json;
using System.Text.RegularExpressions;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Lab.Tests.Bench;

[TestClass]
public sealed partial class BenchSmokeTests
{
    private static readonly string[] SmokeFigures =
    [
        "path_ms_nodes_1000", "grant_p50_us_leases_10k", "grant_p50_us_leases_100k", "grant_p50_us_leases_1m",
        "preload_start_ratio_to_floor", "preload_start_ratio", "preload_idle_rss_added_kb",
        "connect_ineligible_ratio", "connect_cached_lane_added_us", "connect_cached_lane_ratio_to_floor",
        "connect_cold_lane_p50_us", "connect_cold_lane_p99_us", "connect_cold_lane_ratio_to_grpcio_p50", "connect_cold_lane_ratio_to_grpcio_p99",
        "connect_cold_lane_p50_us_sockets", "connect_cold_lane_p99_us_sockets",
        "connect_cold_lane_ratio_to_grpcio_p50_sockets", "connect_cold_lane_ratio_to_grpcio_p99_sockets",
    ];

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void QuickRun_OfFourSuites_WritesEveryFigureInTheSchemaAndLeavesNoNamespace()
    {
        Privileges.RequireRoot("the preload and connect suites build network namespaces");
        string dir = Directory.CreateTempSubdirectory("laneshim-bench-test-").FullName;
        HashSet<string> before = BenchNamespaces();
        try
        {
            ProcessResult r = ProcessRunner.Run(RepoPaths.Lab, ["bench", "--quick", "--only", "path,leases,preload,connect", "--out", dir], timeout: TimeSpan.FromSeconds(170));
            Assert.AreEqual(0, r.ExitCode, r.Describe());

            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
            JsonElement root = doc.RootElement;
            Assert.IsFalse(string.IsNullOrWhiteSpace(root.GetProperty("machine").GetString()), "machine must describe the host");
            var names = new List<string>();
            foreach (JsonElement b in root.GetProperty("benchmarks").EnumerateArray())
            {
                string name = b.GetProperty("name").GetString()!;
                names.Add(name);
                string why = $"{name}: {b}";
                Assert.IsFalse(string.IsNullOrEmpty(b.GetProperty("unit").GetString()), why);
                foreach (string field in new[] { "value", "baseline", "ratio", "target" })
                {
                    JsonValueKind kind = b.GetProperty(field).ValueKind;
                    Assert.IsTrue(kind is JsonValueKind.Number or JsonValueKind.Null, $"{field} must be a number or null; {why}");
                }
                bool met = b.GetProperty("met").GetBoolean();
                if (b.GetProperty("value").ValueKind == JsonValueKind.Null)
                {
                    // A figure that could not be measured is reported with the reason, never as met.
                    Assert.IsFalse(met, why);
                    Assert.IsFalse(string.IsNullOrWhiteSpace(b.GetProperty("note").GetString()), why);
                }
                else if (b.GetProperty("target").ValueKind == JsonValueKind.Number && met)
                {
                    double value = b.GetProperty("value").GetDouble(), target = b.GetProperty("target").GetDouble();
                    string kind = b.GetProperty("target_kind").GetString()!;
                    Assert.IsTrue(kind == "at_least" ? value >= target : kind == "below" ? value < target : value <= target, $"met must agree with value and target; {why}");
                }
            }
            CollectionAssert.AreEquivalent(SmokeFigures, names, string.Join(", ", names));

            // The namespace suites must have measured (root, binaries built): a value, and the comparisons a baseline from the same run.
            foreach (JsonElement b in root.GetProperty("benchmarks").EnumerateArray())
            {
                Assert.AreEqual(JsonValueKind.Number, b.GetProperty("value").ValueKind, b.ToString());
            }
            JsonElement connect = root.GetProperty("benchmarks").EnumerateArray().Single(b => b.GetProperty("name").GetString() == "connect_ineligible_ratio");
            Assert.IsGreaterThan(0.0, connect.GetProperty("baseline").GetDouble(), connect.ToString());
            Assert.AreEqual(connect.GetProperty("value").GetDouble(), connect.GetProperty("ratio").GetDouble(), 1e-6, connect.ToString());

            string md = File.ReadAllText(Path.Combine(dir, "results.md"));
            StringAssert.Contains(md, "`laneshim-lab bench --quick --only path,leases,preload,connect`");
            foreach (string name in SmokeFigures)
            {
                StringAssert.Contains(md, $"`{name}`");
                StringAssert.Contains(r.Stdout, $"`{name}`", "the console prints the table");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        CollectionAssert.AreEquivalent(before.ToList(), BenchNamespaces().ToList(), "the harness must delete its namespaces");
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void AsAnUnprivilegedUser_NamespaceFiguresAreReportedUnmeasuredWithTheReason()
    {
        Privileges.RequireRoot("runs the harness as nobody through runuser");
        string dir = Directory.CreateTempSubdirectory("laneshim-bench-nobody-").FullName;
        try
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupWrite |
                UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
            ProcessResult r = ProcessRunner.Run("/usr/sbin/runuser", ["-u", "nobody", "--", RepoPaths.Lab, "bench", "--quick", "--only", "path,connect", "--out", dir],
                timeout: TimeSpan.FromSeconds(110));
            Assert.AreEqual(0, r.ExitCode, r.Describe());
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
            var figures = doc.RootElement.GetProperty("benchmarks").EnumerateArray().ToDictionary(b => b.GetProperty("name").GetString()!, b => b);
            Assert.AreEqual(JsonValueKind.Number, figures["path_ms_nodes_1000"].GetProperty("value").ValueKind, r.Describe());
            foreach (string name in new[] { "connect_ineligible_ratio", "connect_cached_lane_added_us", "connect_cold_lane_p50_us", "connect_cold_lane_p99_us" })
            {
                JsonElement b = figures[name];
                Assert.AreEqual(JsonValueKind.Null, b.GetProperty("value").ValueKind, b.ToString());
                Assert.IsFalse(b.GetProperty("met").GetBoolean(), b.ToString());
                StringAssert.Contains(b.GetProperty("note").GetString(), "needs root", b.ToString());
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void UnknownSuite_ExitsTwoAndNamesTheKnownOnes()
    {
        ProcessResult r = ProcessRunner.Run(RepoPaths.Lab, ["bench", "--only", "path,nosuch"], timeout: TimeSpan.FromSeconds(60));
        Assert.AreEqual(2, r.ExitCode, r.Describe());
        StringAssert.Contains(r.Stderr, "nosuch");
        StringAssert.Contains(r.Stderr, "connect");
    }

    // The harness names its namespaces b<pid>c and b<pid>s.
    private static HashSet<string> BenchNamespaces() =>
        ProcessRunner.Run("/usr/sbin/ip", ["netns", "list"]).Stdout.Split('\n')
            .Select(l => l.Split(' ')[0]).Where(n => HarnessNamespace().IsMatch(n)).ToHashSet();

    [GeneratedRegex(@"^b\d+[cs]$")]
    private static partial Regex HarnessNamespace();
}
