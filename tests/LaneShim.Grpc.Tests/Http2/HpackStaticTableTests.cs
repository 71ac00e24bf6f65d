// HpackStaticTableTests.cs - the static table is RFC 7541 Appendix A, checked against the entries the examples use and the runtime's copy.
using System.Collections;
using System.Reflection;
using System.Text;
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class HpackStaticTableTests
{
    [TestMethod]
    public void Entries_TheOnesTheEncoderNames()
    {
        Assert.AreEqual(new KeyValuePair<string, string>(":authority", ""), HpackStaticTable.Get(HpackStaticTable.Authority));
        Assert.AreEqual(new KeyValuePair<string, string>(":method", "POST"), HpackStaticTable.Get(HpackStaticTable.MethodPost));
        Assert.AreEqual(new KeyValuePair<string, string>(":path", "/"), HpackStaticTable.Get(HpackStaticTable.Path));
        Assert.AreEqual(new KeyValuePair<string, string>(":scheme", "http"), HpackStaticTable.Get(HpackStaticTable.SchemeHttp));
        Assert.AreEqual(new KeyValuePair<string, string>(":scheme", "https"), HpackStaticTable.Get(HpackStaticTable.SchemeHttps));
        Assert.AreEqual(new KeyValuePair<string, string>(":status", "200"), HpackStaticTable.Get(HpackStaticTable.Status200));
        Assert.AreEqual(new KeyValuePair<string, string>("content-type", ""), HpackStaticTable.Get(HpackStaticTable.ContentType));
        Assert.AreEqual(new KeyValuePair<string, string>("user-agent", ""), HpackStaticTable.Get(HpackStaticTable.UserAgent));
        Assert.AreEqual(new KeyValuePair<string, string>("www-authenticate", ""), HpackStaticTable.Get(HpackStaticTable.Count));
    }

    [TestMethod]
    public void Entries_MatchTheInstalledRuntimesTable()
    {
        // An independent copy of Appendix A: System.Net.Http's own HPACK static table, read by reflection.
        const BindingFlags Any = BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        Assembly http = typeof(HttpClient).Assembly;
        FieldInfo? table = http.GetType("System.Net.Http.HPack.H2StaticTable")?.GetField("s_staticDecoderTable", Any);
        Type? field = http.GetType("System.Net.Http.HPack.HeaderField");
        PropertyInfo? name = field?.GetProperty("Name", Any);
        PropertyInfo? value = field?.GetProperty("Value", Any);
        if (table?.GetValue(null) is not IList entries || name is null || value is null)
        {
            Assert.Inconclusive("this runtime's System.Net.Http has no HPack.H2StaticTable to compare with (internal; it moved)");
            return;
        }

        Assert.AreEqual(HpackStaticTable.Count, entries.Count);
        for (int i = 1; i <= HpackStaticTable.Count; i++)
        {
            object entry = entries[i - 1]!;
            string runtimeName = Encoding.Latin1.GetString((byte[])name.GetValue(entry)!);
            string runtimeValue = Encoding.Latin1.GetString((byte[])value.GetValue(entry)!);
            Assert.AreEqual(new KeyValuePair<string, string>(runtimeName, runtimeValue), HpackStaticTable.Get(i), $"index {i}");
        }
    }
}
