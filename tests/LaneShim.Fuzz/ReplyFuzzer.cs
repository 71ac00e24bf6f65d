// ReplyFuzzer.cs - drives generated broker answers through the agent's real reply path and counts what happened.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LaneShim.Agent;
using LaneShim.Agent.Abi;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Fuzz;

/// <summary>
/// Feeds each <see cref="FuzzCase"/> to <c>GrpcClient.ReadResponseAsync</c> (HTTP status, headers, gRPC framing,
/// trailers, protobuf parsing, with the agent's reply size limit), then <c>GrantValidator</c>, and applies every grant the
/// validator passes to a real TCP socket with <c>SocketTuner</c>. Anything other than a <see cref="GrpcException"/> from
/// decoding, or any exception from validation and tuning, is a crash.
/// </summary>
public sealed class ReplyFuzzer : IDisposable
{
    private readonly GrpcClient _client = new(BrokerAddress.Parse("unix:/nonexistent/laneshim-fuzz.sock"),
        new GrpcClientOptions { MaxReceiveMessageSize = AgentRuntime.MaxReplyBytes });
    private Socket _socket = NewSocket();
    private int _socketUses;

    /// <summary>Runs cases [<paramref name="first"/>, first + count) of <paramref name="seed"/>.</summary>
    public FuzzReport Run(int seed, long first, long count, int maxCrashesKept = 10)
    {
        var report = new FuzzReport { Seed = seed, Inputs = count };
        long started = Stopwatch.GetTimestamp();
        for (long i = first; i < first + count; i++)
        {
            FuzzCase input = ReplyMutator.Generate(seed, i);
            string? crash = RunOne(input, report);
            if (crash is not null)
            {
                report.Crashes++;
                if (report.CrashDetails.Count < maxCrashesKept)
                {
                    report.CrashDetails.Add($"case {i} (seed {seed}): {crash}\n  input: {input}");
                }
            }
        }
        report.Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return report;
    }

    private string? RunOne(FuzzCase input, FuzzReport report)
    {
        LaneGrant grant;
        try
        {
            using HttpResponseMessage response = ToResponse(input);
            Task<LaneGrant> decoding = _client.ReadResponseAsync(response, LaneGrant.Parser, CancellationToken.None);
            if (!decoding.IsCompleted)
            {
                return "decoding did not complete synchronously on an in-memory body (it would wait on the network)";
            }
            grant = decoding.GetAwaiter().GetResult();
        }
        catch (GrpcException e)
        {
            report.Statuses[e.StatusCode.ToString()] = report.Statuses.GetValueOrDefault(e.StatusCode.ToString()) + 1;
            return null;
        }
        catch (Exception e)
        {
            return $"decoding threw {e.GetType().FullName}: {e.Message}";
        }

        report.Decoded++;
        try
        {
            if (GrantValidator.Problem(grant, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) is not null)
            {
                report.Rejected++;
                return null;
            }
            var outcome = new LaneshimOutcome();
            SocketTuner.Apply(Socket().Handle.ToInt32(), (int)AddressFamily.InterNetwork, v4Mapped: false, grant, privileged: true, ref outcome);
            _ = SocketTuner.ToSettings(outcome);
            report.Applied++;
            return null;
        }
        catch (Exception e)
        {
            return $"validating or applying a decoded grant threw {e.GetType().FullName}: {e.Message}";
        }
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

    // A fresh socket now and then, so one socket's accumulated options never hide a case.
    private Socket Socket()
    {
        if (++_socketUses > 256)
        {
            _socket.Dispose();
            _socket = NewSocket();
            _socketUses = 0;
        }
        return _socket;
    }

    private static Socket NewSocket() => new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    /// <inheritdoc/>
    public void Dispose()
    {
        _socket.Dispose();
        _client.Dispose();
    }
}
