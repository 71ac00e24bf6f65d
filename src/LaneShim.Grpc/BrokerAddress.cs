// BrokerAddress.cs - parses and prints where the broker listens or is called: unix:/path, http://host:port, tcp:HOST:PORT.
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LaneShim.Grpc;

/// <summary>
/// A broker endpoint. Accepted forms: <c>unix:/abs/path</c> (also <c>unix:///abs/path</c>),
/// <c>http://host:port</c> (what a client dials) and <c>tcp:HOST:PORT</c> (what a server listens on;
/// port 0 asks for an ephemeral port, IPv6 is bracketed: <c>tcp:[::1]:50051</c>).
/// <see cref="ToString"/> prints the client form (<c>unix:/path</c> or <c>http://host:port</c>), which parses back to an equal value.
/// </summary>
public sealed class BrokerAddress : IEquatable<BrokerAddress>
{
    /// <summary>The address used when nothing is configured.</summary>
    public const string Default = "unix:/run/laneshim/broker.sock";

    // sockaddr_un.sun_path is 108 bytes including the terminating NUL.
    private const int MaxUnixPathBytes = 107;

    private BrokerAddress(BrokerAddressKind kind, string? unixPath, string? host, int port, bool tls = false)
    {
        Tls = tls;
        Kind = kind;
        UnixPath = unixPath;
        Host = host;
        Port = port;
    }

    /// <summary>TCP with TLS (<c>https://host:port</c>): the client needs a certificate for the broker to grant anything.</summary>
    public bool Tls { get; }

    /// <summary>Unix socket or TCP.</summary>
    public BrokerAddressKind Kind { get; }

    /// <summary>The absolute socket path when <see cref="Kind"/> is <see cref="BrokerAddressKind.Unix"/>; otherwise null.</summary>
    public string? UnixPath { get; }

    /// <summary>The host name or IP literal (IPv6 without brackets) when <see cref="Kind"/> is <see cref="BrokerAddressKind.Tcp"/>; otherwise null.</summary>
    public string? Host { get; }

    /// <summary>The TCP port (0 means "any free port" in a listen address); 0 for Unix sockets.</summary>
    public int Port { get; }

    /// <summary>Builds a Unix-socket address; the path must be absolute.</summary>
    /// <exception cref="FormatException">The path is not usable as a Unix socket path.</exception>
    public static BrokerAddress Unix(string path)
    {
        string? error = ValidateUnixPath(path);
        return error is null ? new BrokerAddress(BrokerAddressKind.Unix, path, null, 0) : throw new FormatException(error);
    }

    /// <summary>Builds a TCP address; <paramref name="port"/> may be 0 only for listening.</summary>
    /// <exception cref="FormatException">The host or port is not valid.</exception>
    public static BrokerAddress Tcp(string host, int port) => Tcp(host, port, tls: false);

    /// <summary>Builds a TCP address, with TLS when <paramref name="tls"/> (printed as <c>https://host:port</c>).</summary>
    /// <exception cref="FormatException">The host or port is not valid.</exception>
    public static BrokerAddress Tcp(string host, int port, bool tls)
    {
        if (host is ['[', .., ']'])
        {
            host = host[1..^1];
        }

        string? error = ValidateHost(host) ?? ValidatePort(port, allowZero: true);
        return error is null ? new BrokerAddress(BrokerAddressKind.Tcp, null, host, port, tls) : throw new FormatException(error);
    }

    /// <summary>Parses an address, or throws a <see cref="FormatException"/> that says what is wrong and what is expected.</summary>
    public static BrokerAddress Parse(string text)
    {
        return TryParse(text, out BrokerAddress? address, out string error) ? address : throw new FormatException(error);
    }

    /// <summary>Parses an address; on failure <paramref name="error"/> says what is wrong and what is expected.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out BrokerAddress? address, out string error)
    {
        address = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "broker address is empty; expected unix:/path/to/socket, http://host:port or tcp:host:port";
            return false;
        }

        string s = text.Trim();
        if (s.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            return TryParseUnix(s, s["unix:".Length..], out address, out error);
        }

        if (s.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return TryParseHttp(s, s["http://".Length..], out address, out error);
        }

        if (s.StartsWith("tcp:", StringComparison.OrdinalIgnoreCase))
        {
            return TryParseHostPort(s, s["tcp:".Length..], allowZeroPort: true, out address, out error);
        }

        if (s.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            if (!TryParseHttp(s, s["https://".Length..], out BrokerAddress? plain, out error))
            {
                return false;
            }

            address = new BrokerAddress(BrokerAddressKind.Tcp, null, plain!.Host, plain.Port, tls: true);
            return true;
        }

        error = $"broker address '{s}': unknown scheme; expected unix:/path/to/socket, http://host:port or tcp:host:port";
        return false;
    }

    /// <summary>The client form: <c>unix:/path</c> or <c>http://host:port</c> (IPv6 hosts bracketed).</summary>
    public override string ToString() => Kind == BrokerAddressKind.Unix
        ? "unix:" + UnixPath
        : (Tls ? "https://" : "http://") + HostForUri + ":" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The listen form: <c>unix:/path</c> or <c>tcp:host:port</c>.</summary>
    public string ToListenString() => Kind == BrokerAddressKind.Unix
        ? "unix:" + UnixPath
        : "tcp:" + HostForUri + ":" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The host as it appears in a URI or authority: IPv6 literals in brackets.</summary>
    public string? HostForUri => Host is not null && Host.Contains(':', StringComparison.Ordinal) ? "[" + Host + "]" : Host;

    /// <inheritdoc/>
    public bool Equals(BrokerAddress? other) => other is not null
        && Kind == other.Kind
        && string.Equals(UnixPath, other.UnixPath, StringComparison.Ordinal)
        && string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase)
        && Port == other.Port
        && Tls == other.Tls;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BrokerAddress);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, UnixPath, Host is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Host), Port);

    private static bool TryParseUnix(string original, string rest, out BrokerAddress? address, out string error)
    {
        address = null;
        // gRPC also writes absolute paths as unix:///path.
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            rest = rest[2..];
        }

        if (rest.Length > 0 && rest[0] != '/')
        {
            error = $"broker address '{original}': the socket path must be absolute, e.g. unix:/run/laneshim/broker.sock";
            return false;
        }

        string? problem = ValidateUnixPath(rest);
        if (problem is not null)
        {
            error = $"broker address '{original}': {problem}";
            return false;
        }

        address = new BrokerAddress(BrokerAddressKind.Unix, rest, null, 0);
        error = string.Empty;
        return true;
    }

    private static bool TryParseHttp(string original, string rest, out BrokerAddress? address, out string error)
    {
        // Only an authority, optionally followed by "/": the method path is the client's business.
        if (rest.EndsWith('/'))
        {
            rest = rest[..^1];
        }

        if (rest.IndexOfAny(['/', '?', '#', '@']) >= 0)
        {
            address = null;
            error = $"broker address '{original}': expected http://host:port with no path, query or user info";
            return false;
        }

        return TryParseHostPort(original, rest, allowZeroPort: false, out address, out error);
    }

    private static bool TryParseHostPort(string original, string rest, bool allowZeroPort, out BrokerAddress? address, out string error)
    {
        address = null;
        string host;
        string portText;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"broker address '{original}': missing ']' after the IPv6 address";
                return false;
            }

            host = rest[1..close];
            if (!IPAddress.TryParse(host, out IPAddress? ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"broker address '{original}': '{host}' is not an IPv6 address";
                return false;
            }

            string after = rest[(close + 1)..];
            if (!after.StartsWith(':'))
            {
                error = $"broker address '{original}': missing port; expected [IPv6]:port";
                return false;
            }

            portText = after[1..];
        }
        else
        {
            int colon = rest.LastIndexOf(':');
            if (colon < 0)
            {
                error = $"broker address '{original}': missing port; expected host:port";
                return false;
            }

            host = rest[..colon];
            portText = rest[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                error = $"broker address '{original}': put an IPv6 address in brackets, e.g. [::1]:50051";
                return false;
            }
        }

        string? problem = ValidateHost(host);
        if (problem is not null)
        {
            error = $"broker address '{original}': {problem}";
            return false;
        }

        if (portText.Length == 0 || portText.Length > 5 || !portText.All(char.IsAsciiDigit)
            || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            error = $"broker address '{original}': port '{portText}' is not a number from 1 to 65535";
            return false;
        }

        problem = ValidatePort(port, allowZeroPort);
        if (problem is not null)
        {
            error = $"broker address '{original}': {problem}";
            return false;
        }

        address = new BrokerAddress(BrokerAddressKind.Tcp, null, host, port);
        error = string.Empty;
        return true;
    }

    private static string? ValidateUnixPath(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "the socket path is empty; expected unix:/path/to/socket";
        }

        if (path[0] != '/')
        {
            return $"the socket path '{path}' must be absolute";
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return "the socket path contains a NUL character";
        }

        if (path.EndsWith('/'))
        {
            return $"the socket path '{path}' names a directory, not a socket";
        }

        int bytes = Encoding.UTF8.GetByteCount(path);
        return bytes > MaxUnixPathBytes
            ? $"the socket path is {bytes} bytes long; Unix sockets allow at most {MaxUnixPathBytes}"
            : null;
    }

    private static string? ValidateHost(string? host)
    {
        if (string.IsNullOrEmpty(host))
        {
            return "the host is empty";
        }

        return Uri.CheckHostName(host) == UriHostNameType.Unknown ? $"'{host}' is not a valid host name or IP address" : null;
    }

    private static string? ValidatePort(int port, bool allowZero)
    {
        if (port == 0 && !allowZero)
        {
            return "port 0 is only meaningful in a listen address (tcp:host:0)";
        }

        return port is < 0 or > 65535 ? $"port {port} is outside 0-65535" : null;
    }
}
