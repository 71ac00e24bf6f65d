// TcpPair.cs - a real connected TCP pair made inside a chosen network namespace (or this one), for watching in the kernel.
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Tests.Liveness;

/// <summary>A listener, a client connected to it and the accepted socket, all made in namespace <c>/run/netns/NAME</c>.</summary>
internal sealed partial class TcpPair : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private TcpPair(Socket client, Socket accepted)
    {
        Client = client;
        Accepted = accepted;
    }

    public Socket Client { get; }

    public Socket Accepted { get; }

    /// <summary>Connects over <paramref name="address"/> in namespace <paramref name="netns"/> (null: this one).</summary>
    public static TcpPair Open(string? netns = null, string address = "127.0.0.1")
    {
        Socket? listener = null, client = null;
        Exception? failure = null;
        // Sockets belong to the namespace of the thread that makes them; this thread enters it, makes them and leaves.
        var thread = new Thread(() =>
        {
            int home = -1;
            try
            {
                if (netns is not null)
                {
                    home = Open("/proc/thread-self/ns/net", 0x80000);
                    int target = Open($"/run/netns/{netns}", 0x80000);
                    if (target < 0 || SetNs(target, CloneNewNet) != 0)
                    {
                        throw new InvalidOperationException($"cannot enter {netns}: errno {Marshal.GetLastPInvokeError()}");
                    }
                    Close(target);
                }
                listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                if (home >= 0)
                {
                    SetNs(home, CloneNewNet);
                    Close(home);
                }
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw failure;
        }
        listener!.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
        listener.Listen(1);
        client!.Connect(listener.LocalEndPoint!);
        Socket accepted = listener.Accept();
        listener.Dispose();
        return new TcpPair(client, accepted);
    }

    /// <summary>The client's descriptor, as the broker's duplicate would be.</summary>
    public int ClientFd => (int)Client.Handle;

    /// <summary>Another descriptor of the client's socket: what a forked child or an SCM_RIGHTS receiver holds.</summary>
    public int DuplicateClient() => Dup(ClientFd);

    /// <summary>Closes a descriptor from <see cref="DuplicateClient"/>.</summary>
    public static void CloseDescriptor(int fd) => Close(fd);

    public void Dispose()
    {
        Client.Dispose();
        Accepted.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "dup")]
    private static partial int Dup(int fd);
}
