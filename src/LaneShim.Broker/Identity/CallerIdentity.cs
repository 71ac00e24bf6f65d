// CallerIdentity.cs - who is calling, as the transport proves it: a local process (SO_PEERCRED), a remote mTLS principal, or nobody.
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;

namespace LaneShim.Broker.Identity;

/// <summary>The caller of one gRPC call, from what the kernel or TLS vouches for, never from the request.</summary>
public sealed partial record CallerIdentity
{
    /// <summary>Where <see cref="IdentityInterceptor"/> leaves the caller in <see cref="ServerCallContext.UserState"/>.</summary>
    public static readonly object Key = new();

    private static readonly CallerIdentity Nobody = new();

    private CallerIdentity()
    {
    }

    /// <summary>The remote endpoint in words ("unix:" or "ipv4:1.2.3.4:5"), when known.</summary>
    public string? Peer { get; private init; }

    /// <summary>Kernel credentials of a Unix-socket caller; null otherwise.</summary>
    public PeerCredentials? Local { get; private init; }

    /// <summary>The certificate identities of an mTLS caller (CN=..., DNS=...); null otherwise.</summary>
    public IReadOnlyList<string>? Principals { get; private init; }

    /// <summary>The identity a remote caller's leases are owned by: its first principal (the subject CN when it has one).</summary>
    public string? Principal => Principals is { Count: > 0 } p ? p[0] : null;

    /// <summary>True when neither the kernel nor TLS identified the caller (in-process calls, or a listener without TLS).</summary>
    public bool IsAnonymous => Local is null && Principals is null;

    /// <summary>The caller of <paramref name="context"/>, as the identity interceptor found it; anonymous when it did not run.</summary>
    public static CallerIdentity From(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.UserState.TryGetValue(Key, out object? known) && known is CallerIdentity caller ? caller : Nobody;
    }

    /// <summary>A caller the kernel vouches for (SO_PEERCRED of a Unix-socket connection), or an anonymous one when null.</summary>
    public static CallerIdentity Of(PeerCredentials? credentials, X509Certificate2? certificate, string? peer) =>
        credentials is PeerCredentials local ? new CallerIdentity { Local = local, Peer = peer }
        : certificate is not null ? new CallerIdentity { Principals = PrincipalsOf(certificate), Peer = peer }
        : new CallerIdentity { Peer = peer };

    /// <summary>CN=subject common name, then DNS=each DNS subject alternative name.</summary>
    public static IReadOnlyList<string> PrincipalsOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var names = new List<string>();
        string cn = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!string.IsNullOrEmpty(cn))
        {
            names.Add("CN=" + cn);
        }

        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                names.AddRange(san.EnumerateDnsNames().Select(d => "DNS=" + d));
            }
        }

        return names;
    }

    /// <summary>"uid 1000 gid 1000 pid 4242", "CN=dtn1.example.org" or "anonymous", for messages.</summary>
    public override string ToString() =>
        Local is PeerCredentials c ? $"uid {c.Uid} gid {c.Gid} pid {c.Pid}"
        : Principals is not null ? (Principal ?? "a certificate without a name")
        : "anonymous";
}
