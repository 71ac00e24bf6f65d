// ReplyFuzzer.HttpClient.cs - decoded responses: each FuzzCase as an HttpResponseMessage interpreted by Grpc.Net.Client.
using System.Net;
using Grpc.Core;
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
            grant = Interpret(response);
        }
        catch (RpcException e)
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
