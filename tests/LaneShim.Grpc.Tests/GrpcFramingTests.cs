// GrpcFramingTests.cs - the 5-byte length prefix: round trips and every way a frame can be wrong.
using Google.Protobuf;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class GrpcFramingTests
{
    [TestMethod]
    public void Encode_RealMessage_HeaderThenProtobufBytes()
    {
        LaneGrant grant = SampleMessages.GrantFor(SampleMessages.Request());
        byte[] body = grant.ToByteArray();

        byte[] frame = GrpcFraming.Encode(grant);

        Assert.AreEqual(5 + body.Length, frame.Length);
        Assert.AreEqual(0, frame[0], "compressed flag");
        Assert.AreEqual(body.Length, (frame[1] << 24) | (frame[2] << 16) | (frame[3] << 8) | frame[4], "big-endian length");
        CollectionAssert.AreEqual(body, frame[5..]);
    }

    [TestMethod]
    public void EncodeDecode_RealMessage_RoundTrips()
    {
        LaneRequest request = SampleMessages.Request();

        LaneRequest back = GrpcFraming.Decode(GrpcFraming.Encode(request), LaneRequest.Parser);

        Assert.AreEqual(request, back);
    }

    [TestMethod]
    public void EncodeDecode_EmptyMessage_FiveByteFrame()
    {
        byte[] frame = GrpcFraming.Encode(new ReleaseReply());

        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0, 0 }, frame);
        Assert.AreEqual(new ReleaseReply(), GrpcFraming.Decode(frame, ReleaseReply.Parser));
    }

    [TestMethod]
    public void Encode_LargeMessage_LengthUsesAllFourBytes()
    {
        var grant = new LaneGrant { Reason = new string('r', 0x01_02_03) };

        byte[] frame = GrpcFraming.Encode(grant);

        int length = frame.Length - 5;
        CollectionAssert.AreEqual(new[] { (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length }, frame[1..5]);
        Assert.AreEqual(grant, GrpcFraming.Decode(frame, LaneGrant.Parser));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(4)]
    public void Decode_ShorterThanHeader_Internal(int length)
    {
        byte[] frame = GrpcFraming.Encode(SampleMessages.Request())[..length];

        GrpcException e = Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(frame, LaneRequest.Parser));

        Assert.AreEqual(GrpcStatusCode.Internal, e.StatusCode);
    }

    [TestMethod]
    public void Decode_TruncatedPayload_InternalSaysTruncated()
    {
        byte[] frame = GrpcFraming.Encode(SampleMessages.Request());

        GrpcException e = Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(frame[..^1], LaneRequest.Parser));

        Assert.AreEqual(GrpcStatusCode.Internal, e.StatusCode);
        StringAssert.Contains(e.Detail, "truncated");
    }

    [TestMethod]
    public void Decode_ExtraBytesAfterFrame_Internal()
    {
        byte[] frame = [.. GrpcFraming.Encode(SampleMessages.Request()), 0];

        GrpcException e = Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(frame, LaneRequest.Parser));

        Assert.AreEqual(GrpcStatusCode.Internal, e.StatusCode);
    }

    [TestMethod]
    public void Decode_TwoFrames_Internal()
    {
        byte[] one = GrpcFraming.Encode(new RenewRequest { LeaseId = "a" });
        byte[] two = [.. one, .. one];

        GrpcException e = Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(two, RenewRequest.Parser));

        Assert.AreEqual(GrpcStatusCode.Internal, e.StatusCode);
    }

    [TestMethod]
    public void Decode_OverMaxSize_ResourceExhaustedWithBothSizes()
    {
        byte[] frame = GrpcFraming.Encode(new LaneGrant { Reason = new string('r', 2000) });

        GrpcException e = Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(frame, LaneGrant.Parser, maxMessageSize: 1000));

        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, e.StatusCode);
        StringAssert.Contains(e.Detail, (frame.Length - 5).ToString());
        StringAssert.Contains(e.Detail, "1000");
    }

    [TestMethod]
    public void Decode_ExactlyMaxSize_Accepted()
    {
        byte[] frame = GrpcFraming.Encode(new LaneGrant { Reason = new string('r', 2000) });

        LaneGrant grant = GrpcFraming.Decode(frame, LaneGrant.Parser, maxMessageSize: frame.Length - 5);

        Assert.AreEqual(2000, grant.Reason.Length);
    }

    [TestMethod]
    public void Decode_HugeDeclaredLength_ResourceExhaustedNotOverflow()
    {
        byte[] frame = [0, 0xFF, 0xFF, 0xFF, 0xFF];

        GrpcException e = Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(frame, LaneGrant.Parser));

        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, e.StatusCode);
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("identity")]
    public void Decode_CompressedFlagWithoutEncoding_Internal(string? encoding)
    {
        byte[] frame = GrpcFraming.Encode(SampleMessages.Request());
        frame[0] = 1;

        GrpcException e = Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(frame, LaneRequest.Parser, grpcEncoding: encoding));

        Assert.AreEqual(GrpcStatusCode.Internal, e.StatusCode);
        StringAssert.Contains(e.Detail, "compressed");
    }

    [TestMethod]
    public void Decode_CompressedFlagWithGzip_Unimplemented()
    {
        byte[] frame = GrpcFraming.Encode(SampleMessages.Request());
        frame[0] = 1;

        GrpcException e = Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(frame, LaneRequest.Parser, grpcEncoding: "gzip"));

        Assert.AreEqual(GrpcStatusCode.Unimplemented, e.StatusCode);
    }

    [TestMethod]
    public void Decode_InvalidFlagByte_Internal()
    {
        byte[] frame = GrpcFraming.Encode(SampleMessages.Request());
        frame[0] = 2;

        Assert.AreEqual(GrpcStatusCode.Internal, Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(frame, LaneRequest.Parser)).StatusCode);
    }

    [TestMethod]
    public void Decode_InvalidProtobuf_InternalWithParserMessage()
    {
        // A length-delimited field 1 claiming 100 bytes with 1 present.
        byte[] frame = [0, 0, 0, 0, 3, 0x0A, 100, 0x01];

        GrpcException e = Assert.ThrowsExactly<GrpcException>(() => GrpcFraming.Decode(frame, LaneRequest.Parser));

        Assert.AreEqual(GrpcStatusCode.Internal, e.StatusCode);
        Assert.IsInstanceOfType<InvalidProtocolBufferException>(e.InnerException);
    }

    [TestMethod]
    public async Task ReadSingleMessage_EmptyStream_Null()
    {
        byte[]? payload = await GrpcFraming.ReadSingleMessageAsync(new MemoryStream(), 100, null, CancellationToken.None);

        Assert.IsNull(payload);
    }

    [TestMethod]
    public async Task ReadSingleMessage_DribbledOneByteAtATime_ReturnsPayload()
    {
        LaneRequest request = SampleMessages.Request();
        var stream = new OneByteStream(GrpcFraming.Encode(request));

        byte[]? payload = await GrpcFraming.ReadSingleMessageAsync(stream, GrpcFraming.DefaultMaxMessageSize, null, CancellationToken.None);

        Assert.AreEqual(request, LaneRequest.Parser.ParseFrom(payload));
    }

    [TestMethod]
    public async Task ReadSingleMessage_OversizeHeader_FailsBeforeReadingPayload()
    {
        byte[] frame = GrpcFraming.Encode(new LaneGrant { Reason = new string('r', 5000) });
        var stream = new MemoryStream(frame);

        GrpcException e = await Assert.ThrowsExactlyAsync<GrpcException>(() => GrpcFraming.ReadSingleMessageAsync(stream, 1000, null, CancellationToken.None));

        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, e.StatusCode);
        Assert.AreEqual(5, stream.Position, "only the header should have been read");
    }

    [TestMethod]
    public async Task ReadSingleMessage_TruncatedOrExtra_Internal()
    {
        byte[] frame = GrpcFraming.Encode(SampleMessages.Request());

        GrpcException truncated = await Assert.ThrowsExactlyAsync<GrpcException>(
            () => GrpcFraming.ReadSingleMessageAsync(new MemoryStream(frame[..^3]), 1 << 20, null, CancellationToken.None));
        GrpcException partialHeader = await Assert.ThrowsExactlyAsync<GrpcException>(
            () => GrpcFraming.ReadSingleMessageAsync(new MemoryStream(frame[..3]), 1 << 20, null, CancellationToken.None));
        GrpcException extra = await Assert.ThrowsExactlyAsync<GrpcException>(
            () => GrpcFraming.ReadSingleMessageAsync(new MemoryStream([.. frame, 7]), 1 << 20, null, CancellationToken.None));

        Assert.AreEqual(GrpcStatusCode.Internal, truncated.StatusCode);
        Assert.AreEqual(GrpcStatusCode.Internal, partialHeader.StatusCode);
        Assert.AreEqual(GrpcStatusCode.Internal, extra.StatusCode);
    }
}
