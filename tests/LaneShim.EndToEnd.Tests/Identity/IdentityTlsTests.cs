// IdentityTlsTests.cs - a real `laneshim broker` on TCP grants only to mutual-TLS clients of its client CA (.NET and python3-grpcio peers).
using Grpc.Core;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Google.Protobuf;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Identity;

[TestClass]
public sealed class IdentityTlsTests
{
    private const int N = 100;
    private const string Policy = """
        class remote rate=2gbit rtt=80ms ttl=10m
        class local rate=1gbit rtt=40ms
        rule principal=CN=dtn1.example.org,CN=dtn2.example.org -> remote
        rule dst=any uid=0-65535 -> local
        """;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly string Peer = RepoPaths.File("tests", "interop", "identity_peer.py");

    [TestMethod]
    public void TcpListener_WithoutTls_RefusedAtStartWithReason()
    {
        ProcessResult run = ProcessRunner.Run(RepoPaths.Cli, ["broker", "--listen", "tcp:127.0.0.1:0", "--rate", "1gbit", "--rtt", "40ms"], timeout: TimeSpan.FromSeconds(60));

        Assert.AreEqual(2, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Stderr, "refusing to listen on tcp:127.0.0.1:0 without mutual TLS", run.Describe());
        StringAssert.Contains(run.Stderr, "--tls-cert FILE --tls-key FILE --client-ca FILE", run.Describe());
    }

    [TestMethod]
    public async Task MutualTls_GoodCertificateGranted_NoCertificateAndOtherCaZeroOfHundred()
    {
        string dir = Directory.CreateTempSubdirectory("laneshim-tls-").FullName;
        try
        {
            using var ca = TestCa.Create("LaneShim Test CA");
            using var rogue = TestCa.Create("Rogue CA");
            ca.WriteLeaf(dir, "server", "localhost", serverAuth: true);
            ca.WriteLeaf(dir, "dtn1", "dtn1.example.org", serverAuth: false);
            ca.WriteLeaf(dir, "dtn2", "dtn2.example.org", serverAuth: false);
            ca.WriteLeaf(dir, "dtn3", "dtn3.example.org", serverAuth: false);
            rogue.WriteLeaf(dir, "rogue", "dtn1.example.org", serverAuth: false); // the right name from the wrong CA
            File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.Certificate.ExportCertificatePem());
            File.WriteAllText(Path.Combine(dir, "lanes.conf"), Policy);
            string audit = Path.Combine(dir, "audit.jsonl");

            using var broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", "tcp:127.0.0.1:0", "--policy", Path.Combine(dir, "lanes.conf"),
                "--tls-cert", Path.Combine(dir, "server.pem"), "--tls-key", Path.Combine(dir, "server.key"), "--client-ca", Path.Combine(dir, "ca.pem"), "--audit", audit]);
            broker.WaitForOutput("listening on https://", TimeSpan.FromSeconds(60));
            BrokerAddress address = BrokerAddress.Parse(broker.Stdout.Split("listening on ")[1].Trim().Split('\n')[0]);
            Assert.IsTrue(address.Tls, address.ToString());

            LaneGrant grant;
            using (BrokerChannel dtn1 = Client(address, dir, "dtn1"))
            {
                grant = await dtn1.RequestLaneAsync(Request(), Deadline);
                Assert.AreEqual("remote", grant.LaneClass, grant.Reason);
                Assert.AreEqual(0u, grant.BrokerApplied, "a remote caller's socket cannot be proven, so the broker applies nothing");
                Assert.HasCount(1, (await dtn1.ListLeasesAsync(new ListLeasesRequest(), Deadline)).Leases);
            }

            // Another good certificate is another principal: it cannot release dtn1's lease, nor see it.
            using (BrokerChannel dtn2 = Client(address, dir, "dtn2"))
            {
                RpcException e = await Assert.ThrowsExactlyAsync<RpcException>(() => dtn2.ReleaseLaneAsync(new ReleaseRequest { LeaseId = grant.LeaseId }, Deadline));
                Assert.AreEqual(StatusCode.PermissionDenied, e.StatusCode, e.Status.Detail);
                StringAssert.Contains(e.Status.Detail, "belongs to CN=dtn1.example.org, not to CN=dtn2.example.org");
                Assert.IsEmpty((await dtn2.ListLeasesAsync(new ListLeasesRequest(), Deadline)).Leases);
            }

            // A good certificate whose name no rule lists, claiming uid 0: remote claims never match uid rules.
            using (BrokerChannel dtn3 = Client(address, dir, "dtn3"))
            {
                RpcException e = await Assert.ThrowsExactlyAsync<RpcException>(() => dtn3.RequestLaneAsync(Request(), Deadline));
                Assert.AreEqual(StatusCode.NotFound, e.StatusCode, e.Status.Detail);
            }

            Assert.AreEqual(0, await CountGrantsAsync(address, dir, null), "no client certificate");
            Assert.AreEqual(0, await CountGrantsAsync(address, dir, "rogue"), "a certificate from another CA");

            // An independent TLS stack: python3-grpcio with the good certificate gets the lane, without one gets nothing.
            if (File.Exists(RepoPaths.SystemPython))
            {
                string request = JsonSerializer.Serialize(new
                {
                    flow = new { remote = new { address = "CgkJCQ==", port = 5201 }, direction = "DIRECTION_OUTBOUND", protocol = 6 },
                    program = new { path = "/usr/bin/globus-url-copy", pid = 1, uid = 0 },
                });
                JsonElement good = Python(address, dir, "dtn1", ["--call", $"RequestLane={request}"]);
                Assert.AreEqual(1, good.GetProperty("ok").GetInt32(), good.ToString());
                Assert.AreEqual("remote", good.GetProperty("first_ok").GetProperty("lane_class").GetString(), good.ToString());
                JsonElement none = Python(address, dir, null, ["--repeat", N.ToString(), "--call", $"RequestLane={request}"]);
                Assert.AreEqual(0, none.GetProperty("ok").GetInt32(), none.ToString());
                JsonElement rogueResult = Python(address, dir, "rogue", ["--repeat", N.ToString(), "--call", $"RequestLane={request}"]);
                Assert.AreEqual(0, rogueResult.GetProperty("ok").GetInt32(), rogueResult.ToString());
            }

            ProcessRunner.Run("/bin/kill", ["-TERM", broker.Pid.ToString()]);
            Assert.AreEqual(0, broker.WaitForExit(TimeSpan.FromSeconds(30)), broker.Stderr);
            JsonElement[] lines = File.ReadAllLines(audit).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
            // Every decision reached the file before the SIGTERM'd broker exited: dtn1's grant, dtn2's refused release,
            // dtn3's no-match and python's grant. Handshakes that failed made no call, so no decision.
            CollectionAssert.AreEqual(new[] { "grant", "not-owner", "no-match", "grant" }, lines.Select(l => l.GetProperty("verdict").GetString()).ToArray(),
                string.Join("\n", lines.Select(l => l.ToString())));
            JsonElement first = lines.First(l => l.GetProperty("verdict").GetString() == "grant");
            Assert.AreEqual("CN=dtn1.example.org", first.GetProperty("principal").GetString(), first.ToString());
            Assert.AreEqual("skipped: remote caller", first.GetProperty("proof").GetString());
            Assert.IsTrue(lines.All(l => l.GetProperty("verdict").GetString() != "grant" || l.GetProperty("principal").GetString() == "CN=dtn1.example.org"),
                "only dtn1 was ever granted");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void ShimmedProgram_HttpsBroker_LaneOnlyWithItsClientCertificate()
    {
        Privileges.RequireRoot("network namespaces");
        using var net = new NetnsPair();
        string dir = Directory.CreateTempSubdirectory("laneshim-tls-agent-").FullName;
        try
        {
            using var ca = TestCa.Create("LaneShim Test CA");
            ca.WriteLeaf(dir, "server", "localhost", serverAuth: true);
            ca.WriteLeaf(dir, "dtn1", "dtn1.example.org", serverAuth: false);
            File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.Certificate.ExportCertificatePem());
            File.WriteAllText(Path.Combine(dir, "lanes.conf"), Policy);
            using var broker = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.A, RepoPaths.Cli, "broker", "--listen", "tcp:127.0.0.1:0", "--policy", Path.Combine(dir, "lanes.conf"),
                "--tls-cert", Path.Combine(dir, "server.pem"), "--tls-key", Path.Combine(dir, "server.key"), "--client-ca", Path.Combine(dir, "ca.pem")));
            broker.WaitForOutput("listening on https://", TimeSpan.FromSeconds(60));
            string address = broker.Stdout.Split("listening on ")[1].Trim().Split('\n')[0];
            using var server = new BackgroundProcess("/sbin/ip", NetnsPair.Exec(net.B, RepoPaths.SystemPython, RepoPaths.File("tests", "e2e", "sockinfo.py"), "server", "5201", "--count", "2"));
            server.WaitForOutput("listening", TimeSpan.FromSeconds(20));

            JsonElement withCert = ShimmedClient(net, address, dir, withCertificate: true);
            JsonElement without = ShimmedClient(net, address, dir, withCertificate: false);

            Assert.AreEqual(250_000_000L, withCert.GetProperty("max_pacing_rate").GetInt64(), $"class remote (2 Gbit/s) for CN=dtn1: {withCert}");
            Assert.AreEqual(0L, without.GetProperty("max_pacing_rate").GetInt64(), $"no certificate, no lane (and the connect still works): {without}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static JsonElement ShimmedClient(NetnsPair net, string broker, string dir, bool withCertificate)
    {
        var env = new Dictionary<string, string?>
        {
            ["LD_PRELOAD"] = RepoPaths.Shim,
            ["LANESHIM_BROKER"] = broker,
            ["LANESHIM_DEADLINE_MS"] = "5000",
            ["LANESHIM_TLS_CA"] = Path.Combine(dir, "ca.pem"),
            ["LANESHIM_TLS_CERT"] = withCertificate ? Path.Combine(dir, "dtn1.pem") : null,
            ["LANESHIM_TLS_KEY"] = withCertificate ? Path.Combine(dir, "dtn1.key") : null,
        };
        ProcessResult run = ProcessRunner.Run("/sbin/ip", NetnsPair.Exec(net.A, RepoPaths.SystemPython, RepoPaths.File("tests", "e2e", "sockinfo.py"), "client", net.AddressB, "5201", "--bytes", "100000"),
            env, TimeSpan.FromSeconds(120));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        return JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;
    }

    // Each attempt is a new connection (a new handshake), as a new agent process would make.
    private static async Task<int> CountGrantsAsync(BrokerAddress address, string dir, string? leaf)
    {
        int granted = 0;
        for (int i = 0; i < N; i++)
        {
            using BrokerChannel client = Client(address, dir, leaf);
            try
            {
                await client.RequestLaneAsync(Request(), Deadline);
                granted++;
            }
            catch (RpcException e)
            {
                Assert.AreNotEqual(StatusCode.OK, e.StatusCode);
            }
        }

        return granted;
    }

    private static BrokerChannel Client(BrokerAddress address, string dir, string? leaf) => BrokerChannel.Open(address, new BrokerChannelOptions
    {
        TrustedAuthorities = ClientTls.LoadAuthorities(Path.Combine(dir, "ca.pem")),
        ClientCertificate = leaf is null ? null : ClientTls.LoadCertificate(Path.Combine(dir, leaf + ".pem"), Path.Combine(dir, leaf + ".key")),
    });

    private static LaneRequest Request() => new()
    {
        Flow = new Flow
        {
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.9.9.9").GetAddressBytes()), Port = 5201 },
            Direction = Direction.Outbound,
            Protocol = 6,
        },
        Program = new LaneShim.Protocol.V1.Program { Path = "/usr/bin/globus-url-copy", Pid = 1, Uid = 0 },
    };

    private static JsonElement Python(BrokerAddress address, string dir, string? leaf, string[] args)
    {
        var all = new List<string> { Peer, "--target", $"127.0.0.1:{address.Port}", "--ca", Path.Combine(dir, "ca.pem") };
        if (leaf is not null)
        {
            all.AddRange(["--cert", Path.Combine(dir, leaf + ".pem"), "--key", Path.Combine(dir, leaf + ".key")]);
        }

        all.AddRange(args);
        ProcessResult run = ProcessRunner.Run(RepoPaths.SystemPython, all,
            new Dictionary<string, string?> { ["PYTHONPATH"] = null, ["PYTHONHOME"] = null, ["GRPC_VERBOSITY"] = "NONE" }, TimeSpan.FromSeconds(180));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        return JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;
    }

    /// <summary>A throwaway certificate authority, in memory.</summary>
    private sealed class TestCa : IDisposable
    {
        private readonly ECDsa _key;

        private TestCa(ECDsa key, X509Certificate2 certificate)
        {
            _key = key;
            Certificate = certificate;
        }

        public X509Certificate2 Certificate { get; }

        public static TestCa Create(string name)
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            return new TestCa(key, request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)));
        }

        /// <summary>Writes NAME.pem and NAME.key: a certificate for <paramref name="cn"/> signed by this CA.</summary>
        public void WriteLeaf(string dir, string file, string cn, bool serverAuth)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(cn);
            if (serverAuth)
            {
                san.AddIpAddress(IPAddress.Loopback);
            }

            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
            byte[] serial = RandomNumberGenerator.GetBytes(12);
            serial[0] &= 0x7f;
            using X509Certificate2 leaf = request.Create(Certificate, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), serial);
            File.WriteAllText(Path.Combine(dir, file + ".pem"), leaf.ExportCertificatePem());
            File.WriteAllText(Path.Combine(dir, file + ".key"), key.ExportPkcs8PrivateKeyPem());
        }

        public void Dispose()
        {
            Certificate.Dispose();
            _key.Dispose();
        }
    }
}
