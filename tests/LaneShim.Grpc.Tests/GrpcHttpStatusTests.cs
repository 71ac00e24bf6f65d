// GrpcHttpStatusTests.cs - the HTTP status to gRPC code table from grpc/doc/http-grpc-status-mapping.md.
namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class GrpcHttpStatusTests
{
    [TestMethod]
    [DataRow(400, GrpcStatusCode.Internal)]
    [DataRow(401, GrpcStatusCode.Unauthenticated)]
    [DataRow(403, GrpcStatusCode.PermissionDenied)]
    [DataRow(404, GrpcStatusCode.Unimplemented)]
    [DataRow(429, GrpcStatusCode.Unavailable)]
    [DataRow(502, GrpcStatusCode.Unavailable)]
    [DataRow(503, GrpcStatusCode.Unavailable)]
    [DataRow(504, GrpcStatusCode.Unavailable)]
    [DataRow(415, GrpcStatusCode.Unknown)]
    [DataRow(500, GrpcStatusCode.Unknown)]
    [DataRow(302, GrpcStatusCode.Unknown)]
    public void ToStatusCode_FollowsSpecTable(int http, GrpcStatusCode expected)
    {
        Assert.AreEqual(expected, GrpcHttpStatus.ToStatusCode(http));
    }

    [TestMethod]
    [DataRow(0x0L, GrpcStatusCode.Internal)]
    [DataRow(0x1L, GrpcStatusCode.Internal)]
    [DataRow(0x7L, GrpcStatusCode.Unavailable)]
    [DataRow(0x8L, GrpcStatusCode.Cancelled)]
    [DataRow(0xBL, GrpcStatusCode.ResourceExhausted)]
    [DataRow(0xCL, GrpcStatusCode.PermissionDenied)]
    public void FromHttp2ErrorCode_FollowsSpecTable(long code, GrpcStatusCode expected)
    {
        Assert.AreEqual(expected, GrpcHttpStatus.FromHttp2ErrorCode(code));
    }
}
