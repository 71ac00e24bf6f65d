// GrpcStatusMessage.cs - percent-encoding of the grpc-message trailer, so any UTF-8 text survives an ASCII-only header.
using System.Text;

namespace LaneShim.Grpc;

/// <summary>
/// Encodes and decodes <c>grpc-message</c>: UTF-8 bytes outside printable ASCII (0x20-0x7E) and '%' itself are
/// written as <c>%XX</c> (gRPC over HTTP/2, "Status-Message → Percent-Encoded").
/// </summary>
public static class GrpcStatusMessage
{
    /// <summary>The trailer carrying the status code.</summary>
    public const string StatusHeader = "grpc-status";

    /// <summary>The trailer carrying the percent-encoded message.</summary>
    public const string MessageHeader = "grpc-message";

    /// <summary>Percent-encodes a status message for the wire.</summary>
    public static string Encode(string? message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return string.Empty;
        }

        bool plain = true;
        foreach (char c in message)
        {
            if (c < 0x20 || c > 0x7E || c == '%')
            {
                plain = false;
                break;
            }
        }

        if (plain)
        {
            return message;
        }

        byte[] utf8 = Encoding.UTF8.GetBytes(message);
        var sb = new StringBuilder(utf8.Length * 3);
        foreach (byte b in utf8)
        {
            if (b < 0x20 || b > 0x7E || b == '%')
            {
                sb.Append('%').Append(HexDigit(b >> 4)).Append(HexDigit(b & 0xF));
            }
            else
            {
                sb.Append((char)b);
            }
        }

        return sb.ToString();
    }

    /// <summary>Decodes a received message; malformed escapes are kept as they are rather than rejected.</summary>
    public static string Decode(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var bytes = new List<byte>(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c == '%' && i + 2 < value.Length && IsHex(value[i + 1]) && IsHex(value[i + 2]))
            {
                bytes.Add((byte)((HexValue(value[i + 1]) << 4) | HexValue(value[i + 2])));
                i += 2;
            }
            else if (c < 0x80)
            {
                bytes.Add((byte)c);
            }
            else
            {
                // Not valid on the wire, but keep it readable.
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'A' + value - 10);

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
