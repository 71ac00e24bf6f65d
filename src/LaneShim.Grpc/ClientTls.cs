// ClientTls.cs - the client side of mutual TLS to a broker: our certificate, and which CA the broker's must chain to.
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace LaneShim.Grpc;

/// <summary>Builds the SSL options for an <c>https://</c> broker and loads PEM files for them.</summary>
public static class ClientTls
{
    /// <summary>The SSL options: ALPN h2, the client certificate, and a private trust store when one is given.</summary>
    public static SslClientAuthenticationOptions SslOptions(BrokerChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var ssl = new SslClientAuthenticationOptions
        {
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (options.ClientCertificate is X509Certificate2 certificate)
        {
            ssl.ClientCertificates = [certificate];
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }

        if (options.TrustedAuthorities is { Count: > 0 } authorities)
        {
            ssl.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            ssl.CertificateChainPolicy.CustomTrustStore.AddRange(authorities);
        }

        return ssl;
    }

    /// <summary>
    /// Client options from <c>LANESHIM_TLS_CERT</c>, <c>LANESHIM_TLS_KEY</c> (default: the certificate file) and
    /// <c>LANESHIM_TLS_CA</c>, the variables the agent reads; unset ones are left out.
    /// </summary>
    /// <exception cref="InvalidOperationException">A named file does not load; the message names it.</exception>
    public static BrokerChannelOptions OptionsFromEnvironment()
    {
        string? cert = Variable("LANESHIM_TLS_CERT"), key = Variable("LANESHIM_TLS_KEY"), ca = Variable("LANESHIM_TLS_CA");
        return new BrokerChannelOptions
        {
            ClientCertificate = cert is null ? null : LoadCertificate(cert, key ?? cert),
            TrustedAuthorities = ca is null ? null : LoadAuthorities(ca),
        };
    }

    /// <summary>Loads a PEM certificate and key into one usable certificate.</summary>
    /// <exception cref="InvalidOperationException">A file is missing or not PEM; the message names it.</exception>
    public static X509Certificate2 LoadCertificate(string certFile, string keyFile)
    {
        try
        {
            using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            // SslStream on Linux wants a certificate whose key is not ephemeral; a PKCS#12 round trip gives one.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"client certificate {certFile} / key {keyFile}: {e.Message}", e);
        }
    }

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    /// <summary>Loads a PEM CA bundle.</summary>
    /// <exception cref="InvalidOperationException">The file is missing, not PEM, or holds no certificate.</exception>
    public static X509Certificate2Collection LoadAuthorities(string caFile)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"CA file {caFile}: {e.Message}", e);
        }

        return authorities.Count > 0 ? authorities : throw new InvalidOperationException($"CA file {caFile}: no certificate in the file");
    }
}
