// Libc.cs - the libc calls the agent makes on the host program's sockets.
// DllImport resolves these in libc.so.6 itself (dlopen + dlsym on that handle), not through the
// global scope, so the shim's own setsockopt hook never sees the agent's calls.
using System.Runtime.InteropServices;

namespace LaneShim.Agent.Native;

/// <summary>P/Invoke declarations and Linux x86-64/aarch64 socket constants.</summary>
internal static unsafe partial class Libc
{
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int EINPROGRESS = 115;

    public const int SOL_SOCKET = 1;
    public const int SO_SNDBUF = 7;
    public const int SO_RCVBUF = 8;
    public const int SO_SNDBUFFORCE = 32;
    public const int SO_RCVBUFFORCE = 33;
    public const int SO_MARK = 36;
    public const int SO_PRIORITY = 12;
    public const int SO_MAX_PACING_RATE = 47;
    public const int SO_COOKIE = 57;

    public const int IPPROTO_IP = 0;
    public const int IP_TOS = 1;
    public const int IPPROTO_TCP = 6;
    public const int TCP_INFO = 11;
    public const int TCP_CONGESTION = 13;
    public const int TCP_NOTSENT_LOWAT = 25;
    public const int IPPROTO_IPV6 = 41;
    public const int IPV6_TCLASS = 67;

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, byte* address, uint* length);

    [LibraryImport("libc", EntryPoint = "getpeername", SetLastError = true)]
    public static partial int GetPeerName(int fd, byte* address, uint* length);

    public const int SOCK_DGRAM = 2;
    public const int SOCK_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, byte* address, uint length);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, byte* address, uint length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int GetPid();

    public const nuint AT_SECURE = 23;

    [LibraryImport("libc", EntryPoint = "getauxval")]
    public static partial nuint GetAuxVal(nuint type);

    [LibraryImport("libc", EntryPoint = "getuid")]
    public static partial uint GetUid();

    [LibraryImport("libc", EntryPoint = "getgid")]
    public static partial uint GetGid();

    /// <summary>setsockopt with an int value; true on success.</summary>
    public static bool SetInt(int fd, int level, int name, int value) => SetSockOpt(fd, level, name, &value, sizeof(int)) == 0;

    /// <summary>The socket's kernel cookie: the same for every descriptor of one socket, never reused while it lives; 0 on failure.</summary>
    public static ulong Cookie(int fd)
    {
        ulong cookie = 0;
        uint length = sizeof(ulong);
        return GetSockOpt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &length) == 0 ? cookie : 0;
    }

    /// <summary>getsockopt of an int value; null on failure.</summary>
    public static int? GetInt(int fd, int level, int name)
    {
        int value = 0;
        uint length = sizeof(int);
        return GetSockOpt(fd, level, name, &value, &length) == 0 ? value : null;
    }

    private const int SIG_SETMASK = 2;
    private const int SigsetBytes = 128;

    [LibraryImport("libc", EntryPoint = "sigfillset")]
    private static partial int SigFillSet(byte* set);

    [LibraryImport("libc", EntryPoint = "sigdelset")]
    private static partial int SigDelSet(byte* set, int signal);

    [LibraryImport("libc", EntryPoint = "pthread_sigmask")]
    private static partial int PthreadSigmask(int how, byte* set, byte* old);

    [LibraryImport("libc", EntryPoint = "__libc_current_sigrtmin")]
    private static partial int SigRtMin();

    /// <summary>
    /// Runs <paramref name="start"/> (which starts a thread) with every signal blocked but faults and the runtime's
    /// SIGRTMIN, so the new thread inherits that mask: the host program's signals stay with the host's threads.
    /// </summary>
    public static void WithHostSignalsBlocked(Action start)
    {
        byte* blocked = stackalloc byte[SigsetBytes];
        byte* old = stackalloc byte[SigsetBytes];
        SigFillSet(blocked);
        foreach (int fault in (ReadOnlySpan<int>)[4, 5, 7, 8, 11]) // SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV
        {
            SigDelSet(blocked, fault);
        }
        SigDelSet(blocked, SigRtMin());
        bool masked = PthreadSigmask(SIG_SETMASK, blocked, old) == 0;
        try
        {
            start();
        }
        finally
        {
            if (masked)
            {
                PthreadSigmask(SIG_SETMASK, old, null);
            }
        }
    }
}
