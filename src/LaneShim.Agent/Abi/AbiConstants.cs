// AbiConstants.cs - the #define constants of native/include/laneshim_abi.h, mirrored; AbiConformanceTests keep them equal.
namespace LaneShim.Agent.Abi;

/// <summary>Constants of laneshim_abi.h. Names match the C macros without the LANESHIM_ prefix.</summary>
internal static class AbiConstants
{
    public const uint AbiVersion = 2;

    public const int Ok = 0;
    public const int NoLane = 1;
    public const int ErrorUnavailable = -1;
    public const int ErrorDeadline = -2;
    public const int ErrorBadReply = -3;
    public const int ErrorInvalid = -4;
    public const int ErrorInternal = -5;
    public const int ErrorAbi = -6;
    public const int ErrorNotReady = -7;

    public const int DirOutbound = 1;
    public const int DirInbound = 2;
    public const int DirListen = 3;

    public const uint FlowAppSndbuf = 0x1;
    public const uint FlowAppRcvbuf = 0x2;
    public const uint FlowNonblock = 0x4;
    public const uint FlowLate = 0x8;

    public const uint InitInline = 0x1;

    public const int LogOff = 0;
    public const int LogError = 1;
    public const int LogInfo = 2;
    public const int LogDebug = 3;

    public const uint SetSndbuf = 0x01;
    public const uint SetRcvbuf = 0x02;
    public const uint SetCongestion = 0x04;
    public const uint SetPacing = 0x08;
    public const uint SetTos = 0x10;
    public const uint SetMark = 0x20;
    public const uint SetNotsentLowat = 0x40;
    public const uint SetFromCache = 0x80;

    public const int CcNameMax = 16;

    /// <summary>Every constant by its C name, for the conformance test.</summary>
    public static IReadOnlyDictionary<string, long> ByCName { get; } = new Dictionary<string, long>
    {
        ["LANESHIM_ABI_VERSION"] = AbiVersion,
        ["LANESHIM_OK"] = Ok,
        ["LANESHIM_NO_LANE"] = NoLane,
        ["LANESHIM_E_UNAVAILABLE"] = ErrorUnavailable,
        ["LANESHIM_E_DEADLINE"] = ErrorDeadline,
        ["LANESHIM_E_BAD_REPLY"] = ErrorBadReply,
        ["LANESHIM_E_INVALID"] = ErrorInvalid,
        ["LANESHIM_E_INTERNAL"] = ErrorInternal,
        ["LANESHIM_E_ABI"] = ErrorAbi,
        ["LANESHIM_E_NOT_READY"] = ErrorNotReady,
        ["LANESHIM_DIR_OUTBOUND"] = DirOutbound,
        ["LANESHIM_DIR_INBOUND"] = DirInbound,
        ["LANESHIM_DIR_LISTEN"] = DirListen,
        ["LANESHIM_FLOW_APP_SNDBUF"] = FlowAppSndbuf,
        ["LANESHIM_FLOW_APP_RCVBUF"] = FlowAppRcvbuf,
        ["LANESHIM_FLOW_LATE"] = FlowLate,
        ["LANESHIM_FLOW_NONBLOCK"] = FlowNonblock,
        ["LANESHIM_INIT_INLINE"] = InitInline,
        ["LANESHIM_LOG_OFF"] = LogOff,
        ["LANESHIM_LOG_ERROR"] = LogError,
        ["LANESHIM_LOG_INFO"] = LogInfo,
        ["LANESHIM_LOG_DEBUG"] = LogDebug,
        ["LANESHIM_SET_SNDBUF"] = SetSndbuf,
        ["LANESHIM_SET_RCVBUF"] = SetRcvbuf,
        ["LANESHIM_SET_CONGESTION"] = SetCongestion,
        ["LANESHIM_SET_PACING"] = SetPacing,
        ["LANESHIM_SET_TOS"] = SetTos,
        ["LANESHIM_SET_MARK"] = SetMark,
        ["LANESHIM_SET_NOTSENT_LOWAT"] = SetNotsentLowat,
        ["LANESHIM_SET_FROM_CACHE"] = SetFromCache,
        ["LANESHIM_CC_NAME_MAX"] = CcNameMax,
    };
}
