// UnixSocketFile.cs - makes a Unix socket path ready to bind: parent directory, stale file removed, live server refused.
using System.Net.Sockets;

namespace LaneShim.Broker.Hosting;

/// <summary>Prepares and cleans up the file behind a listening Unix socket.</summary>
internal static class UnixSocketFile
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Creates the parent directory, and removes a socket file left by a server that is gone.
    /// Throws <see cref="IOException"/> when something still answers on the path, or when the path is not a socket.
    /// </summary>
    public static async Task PrepareAsync(string path, CancellationToken cancellationToken)
    {
        string? parent = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(parent))
        {
            Directory.CreateDirectory(parent);
        }

        if (Directory.Exists(path))
        {
            throw new IOException($"cannot listen on unix:{path}: it is a directory");
        }

        if (!File.Exists(path))
        {
            return;
        }

        // .NET cannot tell a socket from other files, but a socket always has size 0: refuse to delete anything with content.
        if (new FileInfo(path).Length > 0)
        {
            throw new IOException($"cannot listen on unix:{path}: it exists and is not a socket; remove it or choose another path");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // Nobody listens: a previous server died without cleaning up.
            File.Delete(path);
            return;
        }
        catch (SocketException e)
        {
            throw new IOException($"cannot listen on unix:{path}: probing the existing socket failed: {e.Message}", e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A connect that hangs means a listener with a full backlog: alive, just busy.
        }

        throw new IOException($"cannot listen on unix:{path}: another process is already serving on it; stop it or choose another address");
    }

    /// <summary>Removes the socket file after the server stopped; a missing file is fine.</summary>
    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
