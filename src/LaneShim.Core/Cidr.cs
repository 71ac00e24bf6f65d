// Cidr.cs - an IPv4 or IPv6 prefix such as 10.20.0.0/16, matching v4-mapped IPv6 addresses as IPv4.
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LaneShim.Core;

/// <summary>An address prefix. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 prefixes.</summary>
public sealed class Cidr
{
    private readonly byte[] _network;

    private Cidr(byte[] network, int prefixLength)
    {
        _network = network;
        PrefixLength = prefixLength;
    }

    /// <summary>IPv4 0.0.0.0/0.</summary>
    public static Cidr AnyIPv4 { get; } = new(new byte[4], 0);

    /// <summary>IPv6 ::/0.</summary>
    public static Cidr AnyIPv6 { get; } = new(new byte[16], 0);

    /// <summary>InterNetwork or InterNetworkV6.</summary>
    public AddressFamily Family => _network.Length == 4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

    /// <summary>The network address (host bits zero).</summary>
    public IPAddress Network => new(_network);

    /// <summary>The prefix length in bits.</summary>
    public int PrefixLength { get; }

    /// <summary>
    /// Parses "10.20.0.0/16", "2001:db8::/32" or a bare address (a host prefix). IPv4 must be dotted quad;
    /// host bits must be zero; a v4-mapped IPv6 prefix of /96 or longer becomes the IPv4 prefix.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Cidr? cidr, out string error)
    {
        cidr = null;
        string s = text?.Trim() ?? string.Empty;
        int slash = s.IndexOf('/');
        string addressText = slash < 0 ? s : s[..slash];
        bool v6 = addressText.Contains(':');

        if (addressText.Contains('%'))
        {
            error = $"bad CIDR '{text}': zone ids (%) are not supported";
            return false;
        }

        // IPAddress.TryParse also takes "10" or "10.20" (classful shorthands); a policy file should not.
        if ((!v6 && !IsDottedQuad(addressText)) || !IPAddress.TryParse(addressText, out IPAddress? address))
        {
            error = $"bad CIDR '{text}': '{addressText}' is not an IPv4 or IPv6 address";
            return false;
        }

        int maxPrefix = v6 ? 128 : 32;
        int prefix = maxPrefix;
        if (slash >= 0)
        {
            string prefixText = s[(slash + 1)..];
            if (prefixText.Length is 0 or > 3 || !prefixText.All(char.IsAsciiDigit)
                || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > maxPrefix)
            {
                error = $"bad CIDR '{text}': prefix length must be 0-{maxPrefix}";
                return false;
            }
        }

        byte[] bytes = address.GetAddressBytes();
        if (v6 && address.IsIPv4MappedToIPv6 && prefix >= 96)
        {
            bytes = bytes[12..];
            prefix -= 96;
        }

        if (HasHostBits(bytes, prefix))
        {
            byte[] masked = Masked(bytes, prefix);
            error = $"bad CIDR '{text}': host bits are set (did you mean {new IPAddress(masked)}/{prefix}?)";
            return false;
        }

        cidr = new Cidr(bytes, prefix);
        error = string.Empty;
        return true;
    }

    /// <summary>Parses or throws <see cref="FormatException"/>.</summary>
    public static Cidr Parse(string text) =>
        TryParse(text, out Cidr? cidr, out string error) ? cidr : throw new FormatException(error);

    /// <summary>True when <paramref name="address"/> is inside this prefix (v4-mapped IPv6 is compared as IPv4).</summary>
    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written) || written != _network.Length)
        {
            return false;
        }

        int fullBytes = PrefixLength / 8;
        if (!bytes[..fullBytes].SequenceEqual(_network.AsSpan(0, fullBytes)))
        {
            return false;
        }

        int restBits = PrefixLength % 8;
        if (restBits == 0)
        {
            return true;
        }

        int mask = 0xff << (8 - restBits) & 0xff;
        return (bytes[fullBytes] & mask) == _network[fullBytes];
    }

    /// <summary>"10.20.0.0/16".</summary>
    public override string ToString() => $"{Network}/{PrefixLength}";

    private static bool IsDottedQuad(string text)
    {
        string[] parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit));
    }

    private static bool HasHostBits(byte[] bytes, int prefix) => !Masked(bytes, prefix).AsSpan().SequenceEqual(bytes);

    private static byte[] Masked(byte[] bytes, int prefix)
    {
        byte[] masked = (byte[])bytes.Clone();
        for (int i = 0; i < masked.Length; i++)
        {
            int bitsHere = Math.Clamp(prefix - (i * 8), 0, 8);
            masked[i] &= (byte)(0xff << (8 - bitsHere));
        }

        return masked;
    }
}
