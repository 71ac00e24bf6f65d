// HpackStaticTable.cs - the 61 predefined header fields of RFC 7541 Appendix A, addressed by index 1..61.
namespace LaneShim.Grpc.Http2;

/// <summary>
/// The HPACK static table (RFC 7541 Appendix A). Indexes start at 1; the dynamic table follows at <see cref="Count"/> + 1.
/// The strings are literals, so a field decoded from this table costs no allocation.
/// </summary>
internal static class HpackStaticTable
{
    /// <summary>Entries in the table: 61.</summary>
    public const int Count = 61;

    /// <summary><c>:authority</c> (name only).</summary>
    public const int Authority = 1;

    /// <summary><c>:method: GET</c>.</summary>
    public const int MethodGet = 2;

    /// <summary><c>:method: POST</c>, the method of every gRPC call.</summary>
    public const int MethodPost = 3;

    /// <summary><c>:path: /</c>; as a name index, any path.</summary>
    public const int Path = 4;

    /// <summary><c>:scheme: http</c>.</summary>
    public const int SchemeHttp = 6;

    /// <summary><c>:scheme: https</c>.</summary>
    public const int SchemeHttps = 7;

    /// <summary><c>:status: 200</c>.</summary>
    public const int Status200 = 8;

    /// <summary><c>content-type</c> (name only).</summary>
    public const int ContentType = 31;

    /// <summary><c>user-agent</c> (name only).</summary>
    public const int UserAgent = 58;

    // Index 1 is element 0.
    private static readonly KeyValuePair<string, string>[] s_entries =
    [
        new(":authority", ""), // 1
        new(":method", "GET"), // 2
        new(":method", "POST"), // 3
        new(":path", "/"), // 4
        new(":path", "/index.html"), // 5
        new(":scheme", "http"), // 6
        new(":scheme", "https"), // 7
        new(":status", "200"), // 8
        new(":status", "204"), // 9
        new(":status", "206"), // 10
        new(":status", "304"), // 11
        new(":status", "400"), // 12
        new(":status", "404"), // 13
        new(":status", "500"), // 14
        new("accept-charset", ""), // 15
        new("accept-encoding", "gzip, deflate"), // 16
        new("accept-language", ""), // 17
        new("accept-ranges", ""), // 18
        new("accept", ""), // 19
        new("access-control-allow-origin", ""), // 20
        new("age", ""), // 21
        new("allow", ""), // 22
        new("authorization", ""), // 23
        new("cache-control", ""), // 24
        new("content-disposition", ""), // 25
        new("content-encoding", ""), // 26
        new("content-language", ""), // 27
        new("content-length", ""), // 28
        new("content-location", ""), // 29
        new("content-range", ""), // 30
        new("content-type", ""), // 31
        new("cookie", ""), // 32
        new("date", ""), // 33
        new("etag", ""), // 34
        new("expect", ""), // 35
        new("expires", ""), // 36
        new("from", ""), // 37
        new("host", ""), // 38
        new("if-match", ""), // 39
        new("if-modified-since", ""), // 40
        new("if-none-match", ""), // 41
        new("if-range", ""), // 42
        new("if-unmodified-since", ""), // 43
        new("last-modified", ""), // 44
        new("link", ""), // 45
        new("location", ""), // 46
        new("max-forwards", ""), // 47
        new("proxy-authenticate", ""), // 48
        new("proxy-authorization", ""), // 49
        new("range", ""), // 50
        new("referer", ""), // 51
        new("refresh", ""), // 52
        new("retry-after", ""), // 53
        new("server", ""), // 54
        new("set-cookie", ""), // 55
        new("strict-transport-security", ""), // 56
        new("transfer-encoding", ""), // 57
        new("user-agent", ""), // 58
        new("vary", ""), // 59
        new("via", ""), // 60
        new("www-authenticate", ""), // 61
    ];

    /// <summary>The field at a 1-based <paramref name="index"/>, which must be 1..<see cref="Count"/>.</summary>
    public static KeyValuePair<string, string> Get(int index) => s_entries[index - 1];
}
