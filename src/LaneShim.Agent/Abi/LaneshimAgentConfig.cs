// LaneshimAgentConfig.cs - mirror of struct laneshim_agent_config.
using System.Runtime.InteropServices;

namespace LaneShim.Agent.Abi;

/// <summary>Mirror of <c>struct laneshim_agent_config</c>; strings are owned by the shim.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct LaneshimAgentConfig
{
    /// <summary>The shim's LANESHIM_ABI_VERSION; any other value than the agent's makes init return LANESHIM_E_ABI.</summary>
    public uint AbiVersion;

    /// <summary>The most, in milliseconds, a broker call may add to one connect().</summary>
    public uint DeadlineMs;

    /// <summary>One of LANESHIM_LOG_OFF (0), _ERROR, _INFO, _DEBUG (3), from LANESHIM_LOG.</summary>
    public int LogLevel;

    /// <summary>The descriptor the agent logs to; -1 means stderr.</summary>
    public int LogFd;

    /// <summary>LANESHIM_INIT_* bits; LANESHIM_INIT_INLINE means init runs on a program thread inside its first eligible call.</summary>
    public uint Flags;

    /// <summary>Padding; the shim passes 0.</summary>
    public uint Reserved;

    /// <summary>NUL-terminated broker address, <c>unix:/path</c> or <c>http://host:port</c>; owned by the shim, copied by the agent during init.</summary>
    public byte* Broker;

    /// <summary>NUL-terminated path of the host program's executable, sent with each grant request; owned by the shim, copied by the agent during init.</summary>
    public byte* Program;
}
