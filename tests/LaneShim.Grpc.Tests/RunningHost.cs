// RunningHost.cs - a GrpcHost serving a TestLaneBroker in its own temp directory, over a Unix socket or loopback TCP.
using LaneShim.Broker.Hosting;

namespace LaneShim.Grpc.Tests;

/// <summary>Starts and stops an in-process host for one test.</summary>
internal sealed class RunningHost : IAsyncDisposable
{
    private RunningHost(TestDirectory directory, GrpcHost host, TestLaneBroker broker)
    {
        Directory = directory;
        Host = host;
        Broker = broker;
    }

    public TestDirectory Directory { get; }

    public GrpcHost Host { get; }

    public TestLaneBroker Broker { get; }

    public BrokerAddress Address => Host.Address;

    /// <summary>Starts a host; <paramref name="transport"/> is "unix" (socket in a temp dir) or "tcp" (127.0.0.1, ephemeral port).</summary>
    public static async Task<RunningHost> StartAsync(string transport, TestLaneBroker? broker = null, GrpcHostOptions? options = null)
    {
        var directory = new TestDirectory();
        broker ??= new TestLaneBroker();
        BrokerAddress listen = transport switch
        {
            "unix" => BrokerAddress.Parse("unix:" + directory.File("broker.sock")),
            "tcp" => BrokerAddress.Parse("tcp:127.0.0.1:0"),
            _ => throw new ArgumentException($"unknown transport {transport}", nameof(transport)),
        };

        try
        {
            GrpcHost host = await GrpcHost.StartAsync(listen, broker.Definition(), options ?? new GrpcHostOptions(), null, CancellationToken.None);
            return new RunningHost(directory, host, broker);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    public GrpcClient Client(GrpcClientOptions? options = null) => new(Address, options);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Directory.Dispose();
    }
}
