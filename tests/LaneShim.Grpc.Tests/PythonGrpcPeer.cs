// PythonGrpcPeer.cs - runs tests/interop/grpc_peer.py (Debian python3-grpcio) as client or server against our stack.
using System.Runtime.InteropServices;
using LaneShim.Testing;

namespace LaneShim.Grpc.Tests;

/// <summary>
/// The independent gRPC implementation for interop tests: /usr/bin/python3 with python3-grpcio, fed a FileDescriptorSet
/// that protoc from the Grpc.Tools package builds once per test run.
/// </summary>
internal static class PythonGrpcPeer
{
    private static readonly Lazy<string> DescriptorSetLazy = new(BuildDescriptorSet);
    private static readonly Lazy<string?> MissingGrpcioLazy = new(ProbeGrpcio);

    public static string Script => RepoPaths.File("tests", "interop", "grpc_peer.py");

    /// <summary>A pyenv or virtualenv must not hide Debian's packages from /usr/bin/python3.</summary>
    public static IDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        ["PYTHONPATH"] = null,
        ["PYTHONHOME"] = null,
        ["PYTHONIOENCODING"] = "utf-8",
        ["http_proxy"] = null,
        ["https_proxy"] = null,
        ["grpc_proxy"] = null,
    };

    /// <summary>Fails (in CI, as root) or skips (elsewhere) when python3-grpcio is missing.</summary>
    public static void RequireGrpcio()
    {
        string? why = MissingGrpcioLazy.Value;
        if (why is null)
        {
            return;
        }

        string fix = "apt-get install -y python3-grpcio python3-protobuf (build.sh does this as root)";
        if (Privileges.IsRoot)
        {
            Assert.Fail($"{why}; {fix}");
        }

        Assert.Inconclusive($"{why}; as root, {fix}");
    }

    /// <summary>The FileDescriptorSet of proto/laneshim/v1/broker.proto with its imports.</summary>
    public static string DescriptorSet => DescriptorSetLazy.Value;

    /// <summary>Runs one client call; stdout is the response JSON, or "STATUS CODE details".</summary>
    public static ProcessResult Client(string target, string method, string json, double timeoutSeconds = 10)
    {
        return ProcessRunner.Run(RepoPaths.SystemPython,
            [Script, "--descriptor-set", DescriptorSet, "client", "--target", target, "--method", method, "--json", json,
             "--timeout", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            Environment, TimeSpan.FromSeconds(60));
    }

    /// <summary>Starts a server and waits (by polling its output, with a deadline) until it prints where it listens.</summary>
    public static (BackgroundProcess Process, BrokerAddress Address) StartServer(string listen, params string[] rules)
    {
        var args = new List<string> { Script, "--descriptor-set", DescriptorSet, "server", "--listen", listen, "--lifetime", "300" };
        foreach (string rule in rules)
        {
            args.Add("--rule");
            args.Add(rule);
        }

        var process = new BackgroundProcess(RepoPaths.SystemPython, args, Environment);
        try
        {
            process.WaitForOutput("LISTENING ", TimeSpan.FromSeconds(30));
            string line = process.Stdout.Split('\n').First(l => l.StartsWith("LISTENING ", StringComparison.Ordinal));
            return (process, BrokerAddress.Parse(line["LISTENING ".Length..].Trim()));
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>The JSON objects the server printed after "REQUEST ", once at least <paramref name="count"/> arrived.</summary>
    public static string[] Requests(BackgroundProcess server, int count)
    {
        server.WaitUntil(() => RequestLines(server).Length >= count, TimeSpan.FromSeconds(10), $"printed {count} REQUEST lines");
        return RequestLines(server);
    }

    private static string[] RequestLines(BackgroundProcess server) => server.Stdout
        .Split('\n')
        .Where(l => l.StartsWith("REQUEST ", StringComparison.Ordinal))
        .Select(l => l["REQUEST ".Length..].Trim())
        .ToArray();

    private static string? ProbeGrpcio()
    {
        if (!File.Exists(RepoPaths.SystemPython))
        {
            return $"{RepoPaths.SystemPython} is missing";
        }

        ProcessResult probe = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", "import grpc, google.protobuf"], Environment, TimeSpan.FromSeconds(30));
        return probe.ExitCode == 0 ? null : $"{RepoPaths.SystemPython} cannot import grpc: {probe.Stderr.Trim()}";
    }

    private static string BuildDescriptorSet()
    {
        string protoc = FindProtoc();
        string include = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(protoc)!, "..", "..", "build", "native", "include"));
        // Next to the test binaries: rebuilt on every run, never left behind in /tmp.
        string output = Path.Combine(AppContext.BaseDirectory, "laneshim-broker.pb");
        ProcessResult r = ProcessRunner.Run(protoc,
            ["-I" + RepoPaths.File("proto"), "-I" + include, "--include_imports", "--descriptor_set_out=" + output, "laneshim/v1/broker.proto"],
            timeout: TimeSpan.FromSeconds(60));
        if (r.ExitCode != 0 || !File.Exists(output))
        {
            throw new InvalidOperationException($"protoc could not build the descriptor set: {r.Describe()}");
        }

        return output;
    }

    /// <summary>protoc from the Grpc.Tools package in the NuGet cache (NUGET_PACKAGES, else ~/.nuget/packages), newest version first.</summary>
    private static string FindProtoc()
    {
        string packages = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env
            ? env
            : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string arch = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux_arm64" : "linux_x64";
        string tools = Path.Combine(packages, "grpc.tools");
        string? protoc = Directory.Exists(tools)
            ? Directory.GetDirectories(tools)
                .OrderByDescending(d => Version.TryParse(Path.GetFileName(d).Split('-')[0], out Version? v) ? v : new Version(0, 0))
                .Select(d => Path.Combine(d, "tools", arch, "protoc"))
                .FirstOrDefault(File.Exists)
            : null;
        return protoc ?? throw new InvalidOperationException($"no protoc under {tools}/*/tools/{arch}; run dotnet restore first");
    }
}
