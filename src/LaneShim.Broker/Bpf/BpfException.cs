// BpfException.cs - the kernel lane path could not be loaded, attached or written, with the reason in words.
namespace LaneShim.Broker.Bpf;

/// <summary>A failure of the BPF lane path; the message says what and why.</summary>
public sealed class BpfException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BpfException(string message, int errno = 0) : base(message) => Errno = errno;

    /// <summary>Creates the exception.</summary>
    public BpfException() : base("the BPF lane path failed")
    {
    }

    /// <summary>Creates the exception.</summary>
    public BpfException(string message, Exception inner) : base(message, inner)
    {
    }

    /// <summary>The errno behind it, when one is.</summary>
    public int Errno { get; }
}
