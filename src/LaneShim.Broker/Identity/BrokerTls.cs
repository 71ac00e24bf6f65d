// BrokerTls.cs - decides whether a listener may start: TCP only with mutual TLS, TLS files only with TCP.
using LaneShim.Broker.Hosting;
using LaneShim.Grpc;

namespace LaneShim.Broker.Identity;

/// <summary>
/// A TCP caller cannot be identified by the kernel, so a TCP listener without mutual TLS would have to trust what each
/// request claims. The broker refuses to start one rather than serve it: a TCP listener needs --tls-cert, --tls-key and
/// --client-ca, and then grants only to clients whose certificate chains to that CA.
/// </summary>
public static class BrokerTls
{
    /// <summary>The TLS settings for <paramref name="listen"/>, null for a Unix socket.</summary>
    /// <exception cref="InvalidOperationException">A TCP listener without all three files, TLS files with a Unix socket, or a file that does not load.</exception>
    public static TlsListenerOptions? Load(BrokerAddress listen, BrokerOptions options)
    {
        bool any = options.TlsCertFile is not null || options.TlsKeyFile is not null || options.ClientCaFile is not null;
        if (listen.Kind == BrokerAddressKind.Unix)
        {
            return any
                ? throw new InvalidOperationException("--tls-cert, --tls-key and --client-ca apply to TCP listeners only; a Unix-socket caller is identified by the kernel (SO_PEERCRED)")
                : null;
        }

        if (options.TlsCertFile is null || options.TlsKeyFile is null || options.ClientCaFile is null)
        {
            throw new InvalidOperationException(
                $"refusing to listen on {listen.ToListenString()} without mutual TLS: a TCP caller cannot be identified otherwise and would get lanes for whatever it claims. " +
                "Give --tls-cert FILE --tls-key FILE --client-ca FILE (clients then need a certificate from that CA), or listen on a Unix socket");
        }

        return TlsListenerOptions.Load(options.TlsCertFile, options.TlsKeyFile, options.ClientCaFile);
    }
}
