// GrpcHostTests.cs - GrpcHost start-up and shutdown: the socket file's life, addresses, and answers to non-gRPC requests.
using System.Net;
using System.Net.Sockets;
using LaneShim.Broker.Hosting;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class GrpcHostTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    [TestMethod]
    public async Task Start_Unix_CreatesParentDirectoryAndWorldWritableSocket()
    {
        using var dir = new TestDirectory();
        string path = Path.Combine(dir.Path, "run", "laneshim", "broker.sock");

        await using GrpcHost host = await GrpcHost.StartAsync(BrokerAddress.Unix(path), new TestLaneBroker().Definition());

        Assert.AreEqual(BrokerAddress.Unix(path), host.Address);
        Assert.IsTrue(File.Exists(path));
        UnixFileMode rw = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        Assert.AreEqual(rw, File.GetUnixFileMode(path) & rw, "the socket must be 0666 so unprivileged programs can call");
    }

    [TestMethod]
    public async Task Stop_Unix_RemovesSocketFile()
    {
        using var dir = new TestDirectory();
        string path = dir.File("broker.sock");
        GrpcHost host = await GrpcHost.StartAsync(BrokerAddress.Unix(path), new TestLaneBroker().Definition());

        await host.StopAsync();
        await host.DisposeAsync(); // a second stop is harmless

        Assert.IsFalse(File.Exists(path));
    }

    [TestMethod]
    public async Task Start_StaleSocketFile_ReplacedAndServes()
    {
        using var dir = new TestDirectory();
        string path = dir.File("broker.sock");
        // Bound, then the process exits without unlinking: what a crashed server leaves. (.NET unlinks on Dispose, python does not.)
        LaneShim.Testing.ProcessResult made = LaneShim.Testing.ProcessRunner.Run(LaneShim.Testing.RepoPaths.SystemPython,
            ["-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path]);
        Assert.AreEqual(0, made.ExitCode, made.Describe());

        Assert.IsTrue(File.Exists(path));
        await using GrpcHost host = await GrpcHost.StartAsync(BrokerAddress.Unix(path), new TestLaneBroker().Definition());
        using var client = new LaneBrokerClient(host.Address);

        Assert.AreEqual("lease-4242", (await client.RequestLaneAsync(SampleMessages.Request(), Generous)).LeaseId);
    }

    [TestMethod]
    public async Task Start_SocketInUseByLiveServer_RefusedAndLiveServerUntouched()
    {
        await using RunningHost first = await RunningHost.StartAsync("unix");

        IOException e = await Assert.ThrowsExactlyAsync<IOException>(() => GrpcHost.StartAsync(first.Address, new TestLaneBroker().Definition()));

        StringAssert.Contains(e.Message, "already serving");
        using var client = new LaneBrokerClient(first.Address);
        Assert.AreEqual("lease-4242", (await client.RequestLaneAsync(SampleMessages.Request(), Generous)).LeaseId);
    }

    [TestMethod]
    public async Task Start_RegularFileInTheWay_RefusedAndFileKept()
    {
        using var dir = new TestDirectory();
        string path = dir.File("broker.sock");
        await File.WriteAllTextAsync(path, "not a socket");

        IOException e = await Assert.ThrowsExactlyAsync<IOException>(() => GrpcHost.StartAsync(BrokerAddress.Unix(path), new TestLaneBroker().Definition()));

        StringAssert.Contains(e.Message, "not a socket", StringComparison.OrdinalIgnoreCase);
        Assert.AreEqual("not a socket", await File.ReadAllTextAsync(path));
    }

    [TestMethod]
    public async Task Start_TcpPortZero_ReportsBoundPort()
    {
        await using GrpcHost host = await GrpcHost.StartAsync(BrokerAddress.Parse("tcp:127.0.0.1:0"), new TestLaneBroker().Definition());

        Assert.AreEqual(BrokerAddressKind.Tcp, host.Address.Kind);
        Assert.AreEqual("127.0.0.1", host.Address.Host);
        Assert.AreNotEqual(0, host.Address.Port);
        StringAssert.StartsWith(host.Address.ToString(), "http://127.0.0.1:");
    }

    [TestMethod]
    public async Task Start_TcpIpv6Loopback_Serves()
    {
        if (!Socket.OSSupportsIPv6)
        {
            Assert.Inconclusive("IPv6 is disabled on this host");
        }

        await using GrpcHost host = await GrpcHost.StartAsync(BrokerAddress.Parse("tcp:[::1]:0"), new TestLaneBroker().Definition());
        using var client = new LaneBrokerClient(host.Address);

        StringAssert.StartsWith(host.Address.ToString(), "http://[::1]:");
        Assert.AreEqual("lease-4242", (await client.RequestLaneAsync(SampleMessages.Request(), Generous)).LeaseId);
    }

    [TestMethod]
    public async Task Start_TcpHostName_ArgumentException()
    {
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => GrpcHost.StartAsync(BrokerAddress.Parse("tcp:broker.example.org:0"), new TestLaneBroker().Definition()));
    }

    [TestMethod]
    public async Task Healthz_Get_OkPlainText()
    {
        await using RunningHost host = await RunningHost.StartAsync("tcp");
        using HttpClient http = H2cClient();

        using HttpResponseMessage response = await http.GetAsync(host.Address + "/healthz");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("ok\n", await response.Content.ReadAsStringAsync());
    }

    [TestMethod]
    public async Task NonGrpcContentType_415WithGrpcStatus()
    {
        await using RunningHost host = await RunningHost.StartAsync("tcp");
        using HttpClient http = H2cClient();

        using HttpResponseMessage response = await http.PostAsync(host.Address + LaneBrokerMethods.ListLeases, new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        Assert.AreEqual(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.AreEqual(((int)GrpcStatusCode.Internal).ToString(), response.Headers.GetValues("grpc-status").Single());
    }

    [TestMethod]
    public async Task GetOnAMethod_405()
    {
        await using RunningHost host = await RunningHost.StartAsync("tcp");
        using HttpClient http = H2cClient();

        using HttpResponseMessage response = await http.GetAsync(host.Address + LaneBrokerMethods.ListLeases);

        Assert.AreEqual(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [TestMethod]
    public async Task GrpcProtoContentTypeAndMalformedTimeout_Handled()
    {
        await using RunningHost host = await RunningHost.StartAsync("tcp");
        using HttpClient http = H2cClient();

        async Task<string> Status(string contentType, string? timeout)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, host.Address + LaneBrokerMethods.ListLeases)
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(GrpcFraming.Encode(new ListLeasesRequest())),
            };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            if (timeout is not null)
            {
                request.Headers.TryAddWithoutValidation("grpc-timeout", timeout);
            }

            using HttpResponseMessage response = await http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            return response.Headers.TryGetValues("grpc-status", out var h) ? h.Single() : response.TrailingHeaders.GetValues("grpc-status").Single();
        }

        Assert.AreEqual("0", await Status("application/grpc+proto", null));
        Assert.AreEqual("0", await Status("application/grpc; charset=binary", "5S"));
        Assert.AreEqual("13", await Status("application/grpc", "soon"));
    }

    private static HttpClient H2cClient() => new()
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
