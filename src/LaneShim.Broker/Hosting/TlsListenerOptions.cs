// TlsListenerOptions.cs - the certificates of a mutual-TLS TCP listener: the broker's own, and the CA its clients' must chain to.
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace LaneShim.Broker.Hosting;

/// <summary>
/// Mutual TLS for a TCP listener: the server presents <see cref="ServerCertificate"/>, and every client must present a
/// certificate that chains to one of <see cref="ClientAuthorities"/> (only those: the system's roots are not trusted
/// for clients). A connection without one, or with one from another CA, fails its handshake; no call reaches a handler.
/// </summary>
public sealed class TlsListenerOptions
{
    /// <summary>The broker's certificate with its private key.</summary>
    public required X509Certificate2 ServerCertificate { get; init; }

    /// <summary>The CA certificates client certificates must chain to.</summary>
    public required X509Certificate2Collection ClientAuthorities { get; init; }

    /// <summary>Loads PEM files: certificate (with any intermediates), key, and the client CA bundle.</summary>
    /// <exception cref="InvalidOperationException">A file is missing, unreadable or not what it should be; the message names it.</exception>
    public static TlsListenerOptions Load(string certFile, string keyFile, string clientCaFile)
    {
        X509Certificate2 server;
        try
        {
            using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            // Kestrel on Linux needs a key it can use for TLS; a PKCS#12 round trip gives an exportable, usable one.
            server = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"--tls-cert {certFile} / --tls-key {keyFile}: {e.Message}", e);
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(clientCaFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"--client-ca {clientCaFile}: {e.Message}", e);
        }

        if (authorities.Count == 0)
        {
            throw new InvalidOperationException($"--client-ca {clientCaFile}: no certificate in the file");
        }

        return new TlsListenerOptions { ServerCertificate = server, ClientAuthorities = authorities };
    }

    /// <summary>True when <paramref name="certificate"/> chains to one of <see cref="ClientAuthorities"/>.</summary>
    public bool IsTrustedClient(X509Certificate2 certificate, X509Chain? presented)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ClientAuthorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (X509ChainElement element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate);
    }

    /// <summary>The server-side SSL options Kestrel's handshake uses.</summary>
    internal SslServerAuthenticationOptions ToSslOptions() => new()
    {
        ServerCertificate = ServerCertificate,
        ClientCertificateRequired = true,
        ApplicationProtocols = [SslApplicationProtocol.Http2],
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            certificate is not null && IsTrustedClient(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), chain),
    };
}
