// ExitHook.cs - an atexit handler so a program that exits right after its last close still reports its flows.
using System.Runtime.InteropServices;

namespace LaneShim.Agent;

/// <summary>
/// Registers with libc's exit handlers (__cxa_atexit) (the host program's exit(), not the .NET runtime's, which a NativeAOT library never
/// runs): the report queue gets <see cref="Bound"/> to drain. _exit() and fatal signals skip it; so does the agent
/// on a process that never asked for a lane. Never throws, never blocks longer than the bound.
/// </summary>
internal static unsafe partial class ExitHook
{
    /// <summary>How long exit() may wait for the broker, at most.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(300);

    private static int _registered;

    /// <summary>Registers once per process.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0 && CxaAtExit(&OnExit, null, null) != 0)
        {
            AgentLog.Debug("atexit registration failed; reports queued at exit may be lost");
        }
    }

    [UnmanagedCallersOnly]
    private static void OnExit(void* unused)
    {
        try
        {
            AgentRuntime.Current?.Exiting(Bound);
        }
        catch (Exception e)
        {
            AgentLog.Debug($"flushing at exit failed: {e.Message}");
        }
    }

    // atexit itself is not exported by libc.so.6 (it lives in libc_nonshared.a); __cxa_atexit with no DSO handle is what it calls.
    [LibraryImport("libc", EntryPoint = "__cxa_atexit")]
    private static partial int CxaAtExit(delegate* unmanaged<void*, void> function, void* argument, void* dsoHandle);
}
