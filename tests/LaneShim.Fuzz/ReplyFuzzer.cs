// ReplyFuzzer.cs - drives generated broker answers through the agent's real reply path and counts what happened.
using System.Diagnostics;
using System.Net.Sockets;
using LaneShim.Agent;
using LaneShim.Agent.Abi;
using Grpc.Core;
using Grpc.Net.Client;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Fuzz;

/// <summary>
/// Feeds generated broker answers through a reply path (<see cref="FuzzMode"/>) with the agent's reply size limit,
/// then <c>GrantValidator</c>, and applies every grant the validator passes to a real TCP socket with
/// <c>SocketTuner</c>. In wire mode (ReplyFuzzer.Wire.cs) the answer is the byte stream of a fake broker on a
/// socketpair, read by the agent's own HTTP/2 client; in HttpClient mode (ReplyFuzzer.HttpClient.cs) it is a decoded
/// HttpResponseMessage. Anything other than an <see cref="RpcException"/> (or, on the wire, an HTTP/2 failure) from
/// decoding, any exception from validation and tuning, and any call that overruns its deadline is a crash.
/// </summary>
public sealed partial class ReplyFuzzer : IDisposable
{
    private readonly CannedResponseHandler _canned = new();
    private readonly LaneBroker.LaneBrokerClient _grpc;
    private Socket _socket = NewSocket();
    private int _socketUses;

    /// <summary>A fuzzer whose answers Grpc.Net.Client interprets with the agent's reply size limit.</summary>
    public ReplyFuzzer()
    {
        _grpc = new LaneBroker.LaneBrokerClient(GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpClient = new HttpClient(_canned) { Timeout = Timeout.InfiniteTimeSpan },
            DisposeHttpClient = true,
            MaxReceiveMessageSize = AgentRuntime.MaxReplyBytes,
        }));
    }

    /// <summary>The name of <paramref name="mode"/> in reports and on the command line.</summary>
    public static string NameOf(FuzzMode mode) => mode == FuzzMode.Wire ? "wire" : "httpclient";

    /// <summary>Runs cases [<paramref name="first"/>, first + count) of <paramref name="seed"/> through <paramref name="mode"/>.</summary>
    public FuzzReport Run(int seed, long first, long count, FuzzMode mode = FuzzMode.Wire, int maxCrashesKept = 10)
    {
        var report = new FuzzReport { Seed = seed, Inputs = count, Mode = NameOf(mode) };
        long started = Stopwatch.GetTimestamp();
        for (long i = first; i < first + count; i++)
        {
            (string? crash, string input) = mode == FuzzMode.Wire ? RunWire(seed, i, report) : RunHttpClient(seed, i, report);
            if (crash is not null)
            {
                report.Crashes++;
                if (report.CrashDetails.Count < maxCrashesKept)
                {
                    report.CrashDetails.Add($"{report.Mode} case {i} (seed {seed}; replay: --mode {report.Mode} --seed {seed} --first {i} --inputs 1): {crash}\n  input: {input}");
                }
            }
        }
        report.Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return report;
    }

    // The agent's interpretation of an answer: the generated client on Grpc.Net.Client, given this response.
    private LaneGrant Interpret(HttpResponseMessage response)
    {
        _canned.Next = response;
        return _grpc.RequestLane(new LaneRequest());
    }

    private static void CountStatus(FuzzReport report, StatusCode status) =>
        report.Statuses[status.ToString()] = report.Statuses.GetValueOrDefault(status.ToString()) + 1;

    // What the agent does with a decoded grant: validate it, then tune a real socket with it.
    private string? ValidateAndApply(LaneGrant grant, FuzzReport report)
    {
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
        _canned.Dispose();
    }
}
