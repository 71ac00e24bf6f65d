// RunningHost.cs - a TestLaneBroker served by Grpc.AspNetCore on a Unix socket or a TCP port, for the interop tests.
using LaneShim.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace LaneShim.Grpc.Tests;

/// <summary>A running test service; dispose it to stop.</summary>
internal sealed class RunningHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningHost(TestDirectory directory, WebApplication app, TestLaneBroker broker, BrokerAddress address)
    {
        Directory = directory;
        _app = app;
        Broker = broker;
        Address = address;
    }

    public TestDirectory Directory { get; }

    public TestLaneBroker Broker { get; }

    public BrokerAddress Address { get; }

    public static async Task<RunningHost> StartAsync(string transport, TestLaneBroker? broker = null)
    {
        var directory = new TestDirectory();
        broker ??= new TestLaneBroker();
        try
        {
            WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.Services.AddRoutingCore();
            builder.Services.AddLogging();
            builder.Services.AddSingleton(broker);
            builder.Services.AddGrpc();
            string socket = directory.File("broker.sock");
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
            {
                if (transport == "unix")
                {
                    k.ListenUnixSocket(socket, o => o.Protocols = HttpProtocols.Http2);
                }
                else
                {
                    k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
                }
            });
            WebApplication app = builder.Build();
            app.UseRouting();
            app.MapGrpcService<TestLaneBroker>();
            await app.StartAsync();
            BrokerAddress address = transport == "unix"
                ? BrokerAddress.Unix(socket)
                : BrokerAddress.Parse(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return new RunningHost(directory, app, broker, address);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    public BrokerChannel Client(BrokerTransport transport = BrokerTransport.Direct) => BrokerChannel.Open(Address, new BrokerChannelOptions { Transport = transport });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Dispose();
    }
}
