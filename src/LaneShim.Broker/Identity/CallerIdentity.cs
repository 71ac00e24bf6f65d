// CallerIdentity.cs - who is calling, as the transport proves it: a local process (SO_PEERCRED), a remote mTLS principal, or nobody.
using System.Security.Cryptography.X509Certificates;
using LaneShim.Grpc;

namespace LaneShim.Broker.Identity;

/// <summary>The caller of one gRPC call, from what the kernel or TLS vouches for, never from the request.</summary>
internal sealed record CallerIdentity
{
    private CallerIdentity()
    {
    }

    /// <summary>Kernel credentials of a Unix-socket caller; null otherwise.</summary>
    public PeerCredentials? Local { get; private init; }

    /// <summary>The certificate identities of an mTLS caller (CN=..., DNS=...); null otherwise.</summary>
    public IReadOnlyList<string>? Principals { get; private init; }

    /// <summary>The identity a remote caller's leases are owned by: its first principal (the subject CN when it has one).</summary>
    public string? Principal => Principals is { Count: > 0 } p ? p[0] : null;

    /// <summary>True when neither the kernel nor TLS identified the caller (in-process calls, or a listener without TLS).</summary>
    public bool IsAnonymous => Local is null && Principals is null;

    /// <summary>The caller of <paramref name="context"/>.</summary>
    public static CallerIdentity From(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Credentials is PeerCredentials credentials)
        {
            return new CallerIdentity { Local = credentials };
        }

        return context.ClientCertificate is X509Certificate2 certificate
            ? new CallerIdentity { Principals = PrincipalsOf(certificate) }
            : new CallerIdentity();
    }

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
