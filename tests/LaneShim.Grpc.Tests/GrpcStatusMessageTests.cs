// GrpcStatusMessageTests.cs - percent-encoding of grpc-message, checked against the gRPC spec's rules.
namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class GrpcStatusMessageTests
{
    [TestMethod]
    [DataRow("plain ascii: ok", "plain ascii: ok")]
    [DataRow("100%", "100%25")]
    [DataRow("tab\there", "tab%09here")]
    [DataRow("→", "%E2%86%92")]
    [DataRow("", "")]
    [DataRow("~ and space", "~ and space")]
    public void Encode_EscapesOnlyWhatTheSpecRequires(string message, string wire)
    {
        Assert.AreEqual(wire, GrpcStatusMessage.Encode(message));
    }

    [TestMethod]
    [DataRow("lane 'dmz' has 200 of 1000 Mbit/s free; 100% → ✓ 🚀")]
    [DataRow("line1\nline2\r\n")]
    [DataRow("%%%")]
    public void EncodeDecode_RoundTrips(string message)
    {
        string wire = GrpcStatusMessage.Encode(message);

        Assert.IsTrue(wire.All(c => c >= 0x20 && c <= 0x7E), wire);
        Assert.AreEqual(message, GrpcStatusMessage.Decode(wire));
    }

    [TestMethod]
    [DataRow("50%", "50%")]
    [DataRow("%zz", "%zz")]
    [DataRow("%4", "%4")]
    [DataRow("%41%42", "AB")]
    [DataRow("%e2%86%92", "→")]
    public void Decode_MalformedEscapesKept_ValidOnesDecoded(string wire, string message)
    {
        Assert.AreEqual(message, GrpcStatusMessage.Decode(wire));
    }

    [TestMethod]
    public void Decode_Null_Empty()
    {
        Assert.AreEqual(string.Empty, GrpcStatusMessage.Decode(null));
    }
}
