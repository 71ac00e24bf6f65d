// RawUnixServer.cs - a plain Unix-socket listener that speaks no HTTP/2: each accepted socket gets a scripted misbehaviour.
using System.Net.Sockets;

namespace LaneShim.Grpc.Tests;

/// <summary>Accepts connections on a Unix socket and hands each to <c>serve</c>; closes everything on dispose.</summary>
internal sealed class RawUnixServer : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _accepted = [];
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    public RawUnixServer(string path, Func<Socket, CancellationToken, Task> serve)
    {
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(16);
        _ = AcceptLoopAsync(serve);
    }

    /// <summary>How many connections were accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        lock (_accepted)
        {
            foreach (Socket s in _accepted)
            {
                s.Dispose();
            }
        }
    }

    private async Task AcceptLoopAsync(Func<Socket, CancellationToken, Task> serve)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            lock (_accepted)
            {
                _accepted.Add(socket);
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await serve(socket, _stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                }
            });
        }
    }

    /// <summary>
    /// Reads the client's HTTP/2 connection preface and then its frames, reporting each frame's type, stream and payload,
    /// until the peer closes or the server stops.
    /// </summary>
    public static async Task ReadHttp2FramesAsync(Socket socket, Action<byte, int, byte[]> onFrame, CancellationToken cancellationToken)
    {
        byte[] preface = new byte[24];
        if (!await ReadExactlyAsync(socket, preface, cancellationToken))
        {
            return;
        }

        byte[] header = new byte[9];
        while (await ReadExactlyAsync(socket, header, cancellationToken))
        {
            int length = (header[0] << 16) | (header[1] << 8) | header[2];
            int stream = ((header[5] & 0x7F) << 24) | (header[6] << 16) | (header[7] << 8) | header[8];
            byte[] payload = new byte[length];
            if (!await ReadExactlyAsync(socket, payload, cancellationToken))
            {
                return;
            }

            onFrame(header[3], stream, payload);
        }
    }

    /// <summary>Reads and discards until the peer closes or the server stops.</summary>
    public static async Task DrainAsync(Socket socket, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[4096];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
        {
        }
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return false;
            }

            total += n;
        }

        return true;
    }
}
