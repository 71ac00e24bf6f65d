// Http2UnaryConnectionTests.cs - the connection itself over a socketpair: what a peer that has already closed looks like.
using Grpc.Core;
using System.Diagnostics;
using System.Net.Sockets;
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class Http2UnaryConnectionTests
{
    [TestMethod]
    public void Call_PeerClosedBeforeTheRequest_UnavailableNotProcessedWithTheSystemsReason()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lsh2-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        try
        {
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            client.Connect(new UnixDomainSocketEndPoint(path));
            // The peer closes without reading: the first write gets EPIPE, so the server never saw a byte of the call.
            listener.Accept().Dispose();
            using Http2UnaryConnection connection = Http2UnaryConnection.Over(client);
            using var message = new HttpRequestMessage(HttpMethod.Post, "http://localhost/laneshim.v1.LaneBroker/RequestLane");
            byte[] block = new byte[256];
            block = block[..RequestHeaderBlock.Build(message, null, ref block)];
            long due = Stopwatch.GetTimestamp() + Stopwatch.Frequency;

            Http2Exception e = Assert.ThrowsExactly<Http2Exception>(() => connection.Call(block, new byte[5], due, 1024, new UnaryReply()));

            Assert.AreEqual(StatusCode.Unavailable, e.Status, e.Message);
            Assert.IsTrue(e.NotProcessed, e.Message);
            StringAssert.Contains(e.Message, "Broken pipe");
            Assert.IsFalse(connection.Usable);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
