// BrokerStatePostgresTests.cs - two real brokers share one real PostgreSQL: 64 concurrent clients hammer one link and the
// granted rates never add up to more than its capacity, by the replies and by the database; refusals carry correct offers.
using Grpc.Core;
using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using LaneShim.Grpc;
using LaneShim.Lab.Bench;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Broker;

[TestClass]
public sealed class BrokerStatePostgresTests
{
    private const ulong Capacity = 1_000_000_000, MinRate = 5_000_000;

    // One link: the class's virtual link of 1 Gbit/s; every request asks for up to 150 Mbit/s.
    private const string Policy = "class bulk rate=150mbit rtt=10ms ttl=10m capacity=1gbit min_rate=5mbit\nrule -> bulk\n";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task TwoBrokers_64ConcurrentClients_OneLink_NeverOversubscribed()
    {
        Privileges.RequireRoot("running PostgreSQL as its own OS user");
        if (TemporaryPostgres.FindBinaries() is null)
        {
            Assert.Inconclusive("PostgreSQL is not installed (apt-get install postgresql; build.sh deps does it)");
        }
        using TemporaryPostgres postgres = TemporaryPostgres.Start(TemporaryPostgresOptions.Test);
        string dir = Directory.CreateTempSubdirectory("laneshim-pgbrokers-").FullName;
        var brokers = new List<BackgroundProcess>();
        try
        {
            string policy = Path.Combine(dir, "lanes.conf");
            File.WriteAllText(policy, Policy);
            var addresses = new List<BrokerAddress>();
            for (int b = 0; b < 2; b++)
            {
                string socket = Path.Combine(dir, $"broker{b}.sock");
                // --no-socket-proof: the hammer asks for made-up flows; admission, not identity, is under test.
                brokers.Add(new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{socket}", "--no-socket-proof", "--policy", policy, "--postgres", postgres.ConnectionString]));
                addresses.Add(BrokerAddress.Parse($"unix:{socket}"));
            }
            foreach (BackgroundProcess broker in brokers)
            {
                broker.WaitForOutput("listening on", TimeSpan.FromSeconds(60));
            }

            for (int round = 0; round < 2; round++)
            {
                var granted = new ConcurrentDictionary<string, (ulong Rate, int Broker)>();
                var offers = new ConcurrentBag<(ulong Asked, ulong Offer, string Detail)>();
                int refusedWithoutOffer = 0, admissions = 0;
                int[] byBroker = new int[2];
                int port = 20000 + round * 10000;
                // While clients churn, the database's own sum of live leases is sampled: it must never pass the capacity.
                using var hammering = new CancellationTokenSource();
                Task<(ulong Max, int Samples)> monitor = Task.Run(async () =>
                {
                    ulong max = 0;
                    int samples = 0;
                    while (!hammering.IsCancellationRequested)
                    {
                        max = Math.Max(max, LiveSum(postgres));
                        samples++;
                        await Task.Delay(10);
                    }
                    return (max, samples);
                });
                await Task.WhenAll(Enumerable.Range(0, 64).Select(c => Task.Run(async () =>
                {
                    int broker = c % 2;
                    using var client = BrokerChannel.Open(addresses[broker]);
                    var random = new Random(c * 7919 + round);
                    for (int i = 0; i < 40; i++)
                    {
                        ulong asked = (ulong)random.Next(20, 151) * 1_000_000;
                        for (int attempt = 0; attempt < 2; attempt++)
                        {
                            try
                            {
                                LaneGrant grant = await client.RequestLaneAsync(Request(Interlocked.Increment(ref port), asked), Deadline);
                                Assert.AreEqual(asked, grant.RateBps);
                                Interlocked.Increment(ref admissions);
                                Interlocked.Increment(ref byBroker[broker]);
                                if (i < 34)
                                {
                                    // Churn: lanes end after a moment, so admission keeps deciding against a moving sum;
                                    // the last lanes of each client stay and fill the link.
                                    await Task.Delay(random.Next(0, 10));
                                    await client.ReleaseLaneAsync(new ReleaseRequest { LeaseId = grant.LeaseId }, Deadline);
                                }
                                else
                                {
                                    granted[grant.LeaseId] = (grant.RateBps, broker);
                                }
                                break;
                            }
                            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
                            {
                                if (e.Trailers.GetValue("laneshim-offer-bps") is not string offerText)
                                {
                                    Interlocked.Increment(ref refusedWithoutOffer);
                                    StringAssert.Contains(e.Status.Detail, "nothing offered below the class minimum 5 Mbit/s");
                                    break;
                                }
                                ulong offer = ulong.Parse(offerText, System.Globalization.CultureInfo.InvariantCulture);
                                offers.Add((asked, offer, e.Status.Detail));
                                asked = offer; // accept the counter-offer once; another client may take it first
                            }
                        }
                    }
                })));
                await hammering.CancelAsync();
                (ulong maxLive, int samples) = await monitor;

                ulong fromReplies = granted.Values.Aggregate(0UL, (sum, g) => sum + g.Rate);
                ulong fromDatabase = LiveSum(postgres);
                TestContext.WriteLine($"round {round}: {admissions} admissions ({byBroker[0]} by broker 0, {byBroker[1]} by broker 1), {granted.Count} held at the end ({granted.Values.Count(g => g.Broker == 0)} by broker 0, {granted.Values.Count(g => g.Broker == 1)} by broker 1), "
                    + $"{fromReplies / 1_000_000} Mbit/s granted of {Capacity / 1_000_000}; {offers.Count} counter-offers, {refusedWithoutOffer} refusals below min_rate; "
                    + $"database sum sampled {samples} times, at most {maxLive / 1_000_000} Mbit/s");

                Assert.IsLessThanOrEqualTo(Capacity, maxLive, "the database held more live rate than the link has");

                Assert.IsLessThanOrEqualTo(Capacity, fromReplies, "the replies granted more than the link has");
                Assert.AreEqual(fromReplies, fromDatabase, "the database and the replies disagree on what is granted");
                Assert.IsGreaterThan(Capacity - MinRate, fromReplies, "accepted counter-offers fill the link to within min_rate");
                Assert.IsTrue(byBroker[0] > 0 && byBroker[1] > 0, $"both brokers granted ({byBroker[0]}, {byBroker[1]})");
                Assert.IsGreaterThan(0, offers.Count + refusedWithoutOffer, "the hammer never hit the capacity");
                foreach ((ulong asked, ulong offer, string detail) in offers)
                {
                    Assert.IsTrue(offer < asked && offer >= MinRate && offer <= Capacity, $"bad offer {offer} for {asked}: {detail}");
                    StringAssert.Contains(detail, $"rate_bps={offer})");
                    StringAssert.StartsWith(detail, "class bulk has ");
                }

                // A lease lives in the database, not in one broker: renew one of broker 0's through broker 1.
                using var releaser = BrokerChannel.Open(addresses[1]);
                if (granted.FirstOrDefault(g => g.Value.Broker == 0).Key is string fromZero)
                {
                    Assert.AreEqual(fromZero, (await releaser.RenewLaneAsync(new RenewRequest { LeaseId = fromZero }, Deadline)).LeaseId);
                }

                // Give everything back through one broker: the next round starts from an empty link.
                foreach (string id in granted.Keys)
                {
                    await releaser.ReleaseLaneAsync(new ReleaseRequest { LeaseId = id }, Deadline);
                }
                Assert.AreEqual("0", postgres.Sql("SELECT COUNT(*) FROM laneshim_leases"));
            }
        }
        finally
        {
            foreach (BackgroundProcess broker in brokers)
            {
                broker.Dispose();
            }
            Directory.Delete(dir, recursive: true);
        }
    }

    private static ulong LiveSum(TemporaryPostgres postgres) => ulong.Parse(postgres.Sql(
        $"SELECT COALESCE(SUM(rate_bps), 0) FROM laneshim_leases WHERE expires_ms > {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}"), System.Globalization.CultureInfo.InvariantCulture);

    private static LaneRequest Request(int localPort, ulong rate) => new()
    {
        Flow = new Flow
        {
            Direction = Direction.Outbound,
            Protocol = 6,
            Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.9.0.1").GetAddressBytes()), Port = (uint)(localPort % 60000 + 1024) },
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.9.0.2").GetAddressBytes()), Port = 5201 },
        },
        Program = new LaneShim.Protocol.V1.Program { Path = "/usr/bin/rsync", Pid = 1 },
        RateBps = rate,
    };
}
