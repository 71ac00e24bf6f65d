// BrokerHostOptions.cs - the knobs of a BrokerHost: request size limit, socket file mode, shutdown grace.

namespace LaneShim.Broker.Hosting;

/// <summary>Settings for a <see cref="BrokerHost"/>.</summary>
public sealed class BrokerHostOptions
{
    /// <summary>The largest request message accepted; a larger one is answered RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Permissions of the Unix socket file. Default 0666: any local program may call, and the broker decides
    /// from SO_PEERCRED what each caller may have.
    /// </summary>
    public UnixFileMode UnixSocketMode { get; init; } =
        UnixFileMode.UserRead | UnixFileMode.UserWrite |
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>Mutual TLS for a TCP listener; null serves cleartext HTTP/2 (h2c). Ignored on Unix sockets.</summary>
    public TlsListenerOptions? Tls { get; init; }

    /// <summary>More gRPC services to serve beside LaneBroker (the BPF lane path's scope service); none by default.</summary>
    public IReadOnlyList<IBrokerHostService> Services { get; init; } = [];

    /// <summary>How long <see cref="BrokerHost.StopAsync"/> lets calls in flight finish before aborting them. Default 5 s.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
