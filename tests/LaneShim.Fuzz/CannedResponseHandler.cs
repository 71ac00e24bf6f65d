// CannedResponseHandler.cs - answers Grpc.Net.Client's next request with a response the fuzzer made, so it interprets it as the agent's would.
namespace LaneShim.Fuzz;

/// <summary>Returns <see cref="Next"/> (once) for the next request, completed synchronously as the agent's handler does.</summary>
internal sealed class CannedResponseHandler : HttpMessageHandler
{
    /// <summary>The response for the next request.</summary>
    public HttpResponseMessage? Next { get; set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = Next ?? throw new InvalidOperationException("no canned response");
        Next = null;
        response.RequestMessage = request;
        return Task.FromResult(response);
    }
}
