// BpfLayout.cs - the sizes and constants of bpf/laneshim_bpf.h, mirrored for the broker (a test compares them with the C header).
namespace LaneShim.Broker.Bpf;

/// <summary>Constants of <c>bpf/laneshim_bpf.h</c>.</summary>
public static class BpfLayout
{
    /// <summary>Rules the kernel evaluates (one bit each in a prefix's mask).</summary>
    public const int MaxRules = 64;

    /// <summary>Lane classes the kernel knows.</summary>
    public const int MaxClasses = 64;

    /// <summary>Destination prefixes in the LPM trie.</summary>
    public const int MaxPrefixes = 4096;

    /// <summary>Port ranges per rule.</summary>
    public const int PortRanges = 8;

    /// <summary>Uid ranges per rule.</summary>
    public const int UidRanges = 4;

    /// <summary>Bytes of a congestion control name, with its NUL.</summary>
    public const int CcLength = 16;

    /// <summary>Bytes of a task's comm.</summary>
    public const int CommLength = 16;

    /// <summary>Rule actions.</summary>
    public const uint ActionClass = 1, ActionDeny = 2, ActionUserspace = 3;

    /// <summary>Rule direction bits.</summary>
    public const uint DirectionOut = 1, DirectionIn = 2, DirectionListen = 4;

    /// <summary>Class flags.</summary>
    public const uint ClassTos = 1, ClassMark = 2, ClassPriority = 4, ClassBulk = 8;

    /// <summary>Event kinds.</summary>
    public const uint EventConnect = 1, EventAccept = 2, EventListen = 3, EventClose = 4, EventVerdict = 5, EventUser = 6;

    /// <summary>Event flags.</summary>
    public const uint FlagUserTuned = 1, FlagMatched = 2, FlagDenied = 4, FlagUserspace = 8, FlagReverted = 16;

    /// <summary>Verdicts the broker writes for a socket cookie.</summary>
    public const uint VerdictAdmitted = 1, VerdictRefused = 2;

    /// <summary>Bits of what bpf_setsockopt applied.</summary>
    public const uint AppliedSndbuf = 1, AppliedRcvbuf = 2, AppliedCc = 4, AppliedPacing = 8, AppliedTos = 16, AppliedMark = 32, AppliedPriority = 64, AppliedLowat = 128;
}
