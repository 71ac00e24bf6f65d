// ScriptedH2Server.cs - an HTTP/2 server on a Unix socket whose every frame is written by the test, to pin how the direct client reacts.
using System.Collections.Concurrent;
using System.Net.Sockets;

namespace LaneShim.Grpc.Tests.Http2;

/// <summary>
/// Runs a script per accepted connection (over <see cref="RawUnixServer"/>), records every frame the client sends, and
/// collects the script's own failures and the client's protocol violations as <see cref="Problems"/>.
/// </summary>
internal sealed class ScriptedH2Server : IDisposable
{
    private readonly RawUnixServer _raw;
    private readonly ConcurrentQueue<H2Frame> _frames = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private int _lastIndex = -1;

    public ScriptedH2Server(string path, Func<H2ServerConnection, Task> script)
    {
        _raw = new RawUnixServer(path, async (socket, ct) =>
        {
            var connection = new H2ServerConnection(this, socket, Interlocked.Increment(ref _lastIndex), ct);
            try
            {
                await script(connection);
            }
            catch (Exception e) when (e is not (OperationCanceledException or ObjectDisposedException or SocketException))
            {
                Problem($"connection {connection.Index}: the script failed: {e}");
            }
        });
    }

    /// <summary>How many connections the client opened.</summary>
    public int Connections => _raw.Connections;

    /// <summary>Every frame received so far, on every connection, in arrival order per connection.</summary>
    public H2Frame[] Frames => [.. _frames];

    /// <summary>Script failures and client protocol violations seen so far.</summary>
    public string[] Problems => [.. _problems];

    /// <summary>
    /// A server that starts each connection and hands every request to <paramref name="answer"/> until the client closes;
    /// the int is the request's 0-based number across all connections.
    /// </summary>
    public static ScriptedH2Server Answering(string path, Func<H2ServerConnection, H2Request, int, Task> answer)
    {
        int calls = -1;
        return new ScriptedH2Server(path, async connection =>
        {
            if (!await connection.StartAsync())
            {
                return;
            }

            while (await connection.ReadRequestAsync() is { } request)
            {
                await answer(connection, request, Interlocked.Increment(ref calls));
            }
        });
    }

    public void AssertNoProblems() =>
        Assert.AreEqual(0, _problems.Count, "the scripted server saw problems:\n" + string.Join("\n", _problems));

    /// <summary>Polls (every 5 ms, bounded by <paramref name="timeout"/>) until <paramref name="condition"/> holds for the recorded frames.</summary>
    public async Task WaitForFramesAsync(Func<H2Frame[], bool> condition, string what, TimeSpan? timeout = null)
    {
        using var wait = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
        while (!condition(Frames))
        {
            if (wait.IsCancellationRequested)
            {
                Assert.Fail($"the client never sent {what}; frames seen:\n" + string.Join("\n", Frames));
            }

            await Task.Delay(5);
        }
    }

    public void Dispose() => _raw.Dispose();

    internal void Record(H2Frame frame) => _frames.Enqueue(frame);

    internal void Problem(string what) => _problems.Enqueue(what);
}
