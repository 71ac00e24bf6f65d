// AgentTls.cs - the agent's client certificate for an https:// broker, from its own environment (no ABI change).
using LaneShim.Agent.Native;
using LaneShim.Grpc;

namespace LaneShim.Agent;

/// <summary>
/// For <c>https://</c> brokers the agent reads <c>LANESHIM_TLS_CERT</c>, <c>LANESHIM_TLS_KEY</c> (PEM client certificate
/// and key) and <c>LANESHIM_TLS_CA</c> (PEM bundle the broker's certificate must chain to; default: the system's roots).
/// Setuid programs (AT_SECURE) ignore them, as the shim ignores its environment there: such a program presents no
/// certificate, the broker grants nothing, and the program connects without a lane. Any failure is logged and
/// ends the same way: fail open.
/// </summary>
internal static class AgentTls
{
    /// <summary>The channel options for <paramref name="address"/>, reading at most <paramref name="maxReplyBytes"/> per reply.</summary>
    public static BrokerChannelOptions Options(BrokerAddress address, int maxReplyBytes, BrokerTransport transport)
    {
        BrokerChannelOptions? tls = address.Tls ? TlsOptions() : null;
        return new BrokerChannelOptions
        {
            Transport = transport,
            MaxReceiveMessageSize = maxReplyBytes,
            ClientCertificate = tls?.ClientCertificate,
            TrustedAuthorities = tls?.TrustedAuthorities,
        };
    }

    private static BrokerChannelOptions TlsOptions()
    {
        if (Libc.GetAuxVal(Libc.AT_SECURE) != 0)
        {
            AgentLog.Info("https broker in a setuid program: no client certificate is used");
            return new BrokerChannelOptions();
        }
        try
        {
            return ClientTls.OptionsFromEnvironment();
        }
        catch (InvalidOperationException e)
        {
            AgentLog.Error($"TLS settings: {e.Message}; asking the broker without a client certificate");
            return new BrokerChannelOptions { TrustedAuthorities = TryAuthorities(Environment.GetEnvironmentVariable("LANESHIM_TLS_CA")) };
        }
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2Collection? TryAuthorities(string? ca)
    {
        try
        {
            return string.IsNullOrEmpty(ca) ? null : ClientTls.LoadAuthorities(ca);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
