// ReplyFuzzer.HttpClient.cs - the HttpClient path (CLI and tools): each FuzzCase as a decoded HttpResponseMessage through ReadResponseAsync.
using System.Net;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Fuzz;

public sealed partial class ReplyFuzzer
{
    private (string? Crash, string Input) RunHttpClient(int seed, long index, FuzzReport report)
    {
        FuzzCase input = ReplyMutator.Generate(seed, index);
        LaneGrant grant;
        try
        {
            using HttpResponseMessage response = ToResponse(input);
            Task<LaneGrant> decoding = _client.ReadResponseAsync(response, LaneGrant.Parser, CancellationToken.None);
            if (!decoding.IsCompleted)
            {
                return ("decoding did not complete synchronously on an in-memory body (it would wait on the network)", input.ToString());
            }
            grant = decoding.GetAwaiter().GetResult();
        }
        catch (GrpcException e)
        {
            CountStatus(report, e.StatusCode);
            return (null, "");
        }
        catch (Exception e)
        {
            return ($"decoding threw {e.GetType().FullName}: {e.Message}", input.ToString());
        }

        string? crash = ValidateAndApply(grant, report);
        return (crash, crash is null ? "" : input.ToString());
    }

    private static HttpResponseMessage ToResponse(FuzzCase input)
    {
        var response = new HttpResponseMessage((HttpStatusCode)input.HttpStatus)
        {
            Version = HttpVersion.Version20,
            Content = new ByteArrayContent(input.Body),
        };
        if (input.ContentType is not null)
        {
            response.Content.Headers.TryAddWithoutValidation("Content-Type", input.ContentType);
        }
        if (input.GrpcEncoding is not null)
        {
            response.Headers.TryAddWithoutValidation("grpc-encoding", input.GrpcEncoding);
        }
        if (input.HeaderStatus is not null)
        {
            response.Headers.TryAddWithoutValidation("grpc-status", input.HeaderStatus);
            if (input.StatusMessage is not null)
            {
                response.Headers.TryAddWithoutValidation("grpc-message", input.StatusMessage);
            }
        }
        if (input.TrailerStatus is not null)
        {
            response.TrailingHeaders.TryAddWithoutValidation("grpc-status", input.TrailerStatus);
            if (input.StatusMessage is not null)
            {
                response.TrailingHeaders.TryAddWithoutValidation("grpc-message", input.StatusMessage);
            }
        }
        return response;
    }
}
