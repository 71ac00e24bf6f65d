// Native.cs - the few libc calls the tests need to know who they are.
using System.Runtime.InteropServices;

namespace LaneShim.Grpc.Tests;

/// <summary>geteuid/getegid, for comparing with SO_PEERCRED.</summary>
internal static partial class Native
{
    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    public static partial uint GetEgid();
}
