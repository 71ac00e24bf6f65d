// ReplyFuzzer.Wire.cs - the agent's path: a fake broker's bytes on a fresh socketpair, read by Http2UnaryConnection, interpreted by GrpcClient.
using Grpc.Core;
using System.Diagnostics;
using System.Net.Sockets;
using Google.Protobuf;
using LaneShim.Agent;
using LaneShim.Fuzz.Wire;
using LaneShim.Grpc;
using LaneShim.Grpc.Http2;
using LaneShim.Protocol.V1;

namespace LaneShim.Fuzz;

public sealed partial class ReplyFuzzer
{
    // Inputs whose broker end stays open run into this deadline (2 ms: the agent's own deadlines are a few ms, and each costs it).
    private static readonly long ShortDeadline = Stopwatch.Frequency * 2 / 1000;

    // Everything else has all its bytes, and the end of the stream, before the call starts: it must never wait this long.
    private static readonly long LongDeadline = Stopwatch.Frequency;

    // A call that returns later than this past its deadline has hung.
    private static readonly long HangMargin = Stopwatch.Frequency * 50 / 1000;

    // Refresh waits at most 50 ms for the rest of a split frame.
    private static readonly long RefreshLimit = Stopwatch.Frequency * 50 / 1000;

    // Above this a write could fill the default Unix socket send buffer before the agent reads: enlarge it first.
    private const int LargeWrite = 128 * 1024;

    private static readonly HttpRequestMessage _request = new(HttpMethod.Post, "http://localhost/laneshim.v1.LaneBroker/RequestLane");
    private readonly byte[] _requestBlock = BuildRequestBlock();
    private readonly byte[] _requestBody = GrpcFraming.Encode(new LaneRequest
    {
        Flow = new Flow
        {
            Local = new Endpoint { Address = ByteString.CopyFrom(10, 0, 0, 1), Port = 40_000 },
            Remote = new Endpoint { Address = ByteString.CopyFrom(192, 0, 2, 7), Port = 5201 },
            Protocol = 6,
        },
    });

    // Reused across inputs as the agent reuses a connection's reply: a grown body buffer must not leak into the next answer.
    private readonly UnaryReply _reply = new();

    private (string? Crash, string Input) RunWire(int seed, long index, FuzzReport report)
    {
        WireInput input = WireInput.Generate(seed, index);
        report.Mutations[input.Mutation] = report.Mutations.GetValueOrDefault(input.Mutation) + 1;
        if (input.KeepOpen)
        {
            report.DeadlineInputs++;
        }

        string? crash;
        (Socket client, Socket server) = SocketPair.Create();
        Http2UnaryConnection? connection = null;
        try
        {
            Send(server, input.First, shutDown: input.Second is null && !input.KeepOpen);
            if (input.Closed)
            {
                // What was sent stays readable; the agent's request meets a closed socket (EPIPE).
                server.Dispose();
            }

            connection = Http2UnaryConnection.Over(client);
            (crash, bool completed) = Exchange(connection, input.KeepOpen ? ShortDeadline : LongDeadline, report, allBytesSent: !input.KeepOpen, "the first call");
            if (crash is null && completed)
            {
                // As the pool does before reusing an idle connection, whatever followed the answer.
                crash = Refresh(connection, report, out bool usable);
                if (crash is null && usable && input.Second is not null)
                {
                    report.SecondCalls++;
                    Send(server, input.Second, shutDown: true);
                    (crash, _) = Exchange(connection, LongDeadline, report, allBytesSent: true, "the second call");
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            crash = $"the fake broker's end failed ({e.GetType().Name}: {e.Message}); a harness fault, or the agent closed its end";
        }
        finally
        {
            if (connection is null)
            {
                client.Dispose();
            }
            else
            {
                connection.Dispose();
            }

            server.Dispose();
        }

        return (crash, crash is null ? "" : input.ToString());
    }

    private (string? Crash, bool Completed) Exchange(Http2UnaryConnection connection, long budget, FuzzReport report, bool allBytesSent, string call)
    {
        long due = Stopwatch.GetTimestamp() + budget;
        try
        {
            connection.Call(_requestBlock, _requestBody, due, AgentRuntime.MaxReplyBytes, _reply);
        }
        catch (Http2Exception e)
        {
            report.Http2Failures++;
            CountStatus(report, e.Status);
            if (e.Status == StatusCode.DeadlineExceeded && allBytesSent)
            {
                return (Hang(report, $"{call} waited for its deadline although every byte of the answer had been sent: {e.Message}"), false);
            }

            return (Overran(report, due, call), false);
        }
        catch (Exception e)
        {
            return ($"{call}: Http2UnaryConnection.Call threw {e.GetType().FullName}: {e.Message}\n{e.StackTrace}", false);
        }

        string? late = Overran(report, due, call);
        if (late is not null)
        {
            return (late, true);
        }

        LaneGrant grant;
        try
        {
            using HttpResponseMessage response = Http2CallHandler.ToResponse(_request, _reply);
            grant = Interpret(response);
        }
        catch (RpcException e)
        {
            CountStatus(report, e.StatusCode);
            return (null, true);
        }
        catch (Exception e)
        {
            return ($"{call}: interpreting the answer threw {e.GetType().FullName}: {e.Message}\n{e.StackTrace}", true);
        }
        finally
        {
            _reply.Clear();
        }

        return (ValidateAndApply(grant, report), true);
    }

    private static string? Refresh(Http2UnaryConnection connection, FuzzReport report, out bool usable)
    {
        usable = false;
        long started = Stopwatch.GetTimestamp();
        try
        {
            usable = connection.Refresh();
        }
        catch (Exception e)
        {
            return $"Http2UnaryConnection.Refresh threw {e.GetType().FullName}: {e.Message}\n{e.StackTrace}";
        }

        return Overran(report, started + RefreshLimit, "refreshing the idle connection");
    }

    private static string? Overran(FuzzReport report, long due, string what)
    {
        long late = Stopwatch.GetTimestamp() - due;
        return late > HangMargin ? Hang(report, $"{what} returned {late * 1000.0 / Stopwatch.Frequency:0.0} ms after its deadline") : null;
    }

    private static string Hang(FuzzReport report, string what)
    {
        report.Hangs++;
        return "hang: " + what;
    }

    private static void Send(Socket server, byte[] bytes, bool shutDown)
    {
        if (bytes.Length > LargeWrite)
        {
            // The agent reads only once the write is done: the whole answer must fit in the socket at once.
            server.SendBufferSize = 4 * bytes.Length;
        }

        for (int offset = 0; offset < bytes.Length;)
        {
            offset += server.Send(bytes, offset, bytes.Length - offset, SocketFlags.None);
        }

        if (shutDown)
        {
            server.Shutdown(SocketShutdown.Send);
        }
    }

    private static byte[] BuildRequestBlock()
    {
        // The block the handler sends for RequestLane, with a grpc-timeout.
        byte[] block = new byte[256];
        return block[..RequestHeaderBlock.Build(_request, GrpcTimeout.Format(TimeSpan.FromMilliseconds(20)), ref block)];
    }
}
