// ExecutableKind.cs - what kind of program `laneshim run` is about to start, as far as LD_PRELOAD is concerned.
namespace LaneShim.Cli.Site;

/// <summary>Whether the shim can reach a program's connect() calls.</summary>
internal enum ExecutableKind
{
    /// <summary>Not an ELF file we can read (missing, unreadable, another format): say nothing.</summary>
    Unknown,

    /// <summary>Dynamically linked through libc: the shim sees its sockets.</summary>
    Dynamic,

    /// <summary>No dynamic loader (no PT_INTERP): LD_PRELOAD is never read.</summary>
    Static,

    /// <summary>A Go program: its net package makes raw system calls, static or not.</summary>
    Go,
}
