// BrokerSecurityOptions.cs - the broker verb's identity flags: mutual TLS for TCP, the audit log, socket proof.
using System.CommandLine;
using LaneShim.Broker;
using LaneShim.Grpc;

namespace LaneShim.Cli.Commands;

/// <summary>--tls-cert, --tls-key, --client-ca, --audit and --no-socket-proof.</summary>
internal sealed class BrokerSecurityOptions
{
    /// <summary>Where the system broker (on the default socket) writes its audit log unless told otherwise.</summary>
    public const string DefaultAuditFile = "/var/log/laneshim/audit.jsonl";

    private readonly Option<string?> _cert = new("--tls-cert") { Description = "TCP listeners: the broker's certificate (PEM). Required with tcp:HOST:PORT, with --tls-key and --client-ca." };
    private readonly Option<string?> _key = new("--tls-key") { Description = "TCP listeners: the certificate's private key (PEM)." };
    private readonly Option<string?> _clientCa = new("--client-ca") { Description = "TCP listeners: CA bundle (PEM) client certificates must chain to; a client's CN/DNS names are the principals policy rules match (principal=CN=...)." };
    private readonly Option<string?> _audit = new("--audit") { Description = $"Append one JSON line per decision to FILE ('off' for none). Default: {DefaultAuditFile} when listening on {BrokerAddress.Default}, else none." };
    private readonly Option<bool> _noProof = new("--no-socket-proof") { Description = "Do not prove local callers' sockets with pidfd_getfd (then nothing is applied by the broker). For kernels before 5.6." };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(_cert);
        command.Add(_key);
        command.Add(_clientCa);
        command.Add(_audit);
        command.Add(_noProof);
    }

    /// <summary>Copies the parsed values into <paramref name="options"/>.</summary>
    public void Apply(ParseResult parse, BrokerAddress listen, BrokerOptions options)
    {
        options.TlsCertFile = parse.GetValue(_cert);
        options.TlsKeyFile = parse.GetValue(_key);
        options.ClientCaFile = parse.GetValue(_clientCa);
        options.ProveSockets = !parse.GetValue(_noProof);
        string? audit = parse.GetValue(_audit);
        // Only the system broker logs to /var/log by default: test and embedded brokers must not touch the host's log.
        options.AuditFile = audit switch
        {
            null => listen.Equals(BrokerAddress.Parse(BrokerAddress.Default)) ? DefaultAuditFile : null,
            "off" or "none" or "" => null,
            _ => audit,
        };
    }
}
