// FakeHttpHandler.cs - an HttpMessageHandler scripted by a test, to feed GrpcClient exact responses or a stuck stack.
namespace LaneShim.Grpc.Tests;

/// <summary>Answers every request with <c>send</c>, and remembers the last request and its body.</summary>
internal sealed class FakeHttpHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send) : HttpMessageHandler
{
    public HttpRequestMessage? LastRequest { get; private set; }

    public byte[]? LastBody { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        LastRequest = request;
        LastBody = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(CancellationToken.None);
        return await send(request, cancellationToken);
    }

    /// <summary>A 200 application/grpc response with <paramref name="body"/>, headers and trailers as given.</summary>
    public static HttpResponseMessage Grpc(byte[] body, (string Name, string Value)[]? headers = null, (string Name, string Value)[]? trailers = null, string contentType = "application/grpc")
    {
        var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK)
        {
            Version = System.Net.HttpVersion.Version20,
            Content = new ByteArrayContent(body),
        };
        response.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        foreach ((string name, string value) in headers ?? [])
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        foreach ((string name, string value) in trailers ?? [])
        {
            response.TrailingHeaders.TryAddWithoutValidation(name, value);
        }

        return response;
    }
}
