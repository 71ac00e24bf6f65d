// LaneshimAgentConfig.cs - mirror of struct laneshim_agent_config.
using System.Runtime.InteropServices;

namespace LaneShim.Agent.Abi;

/// <summary>Mirror of <c>struct laneshim_agent_config</c>; strings are owned by the shim.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct LaneshimAgentConfig
{
    public uint AbiVersion;
    public uint DeadlineMs;
    public int LogLevel;
    public int LogFd;
    public uint Flags;
    public uint Reserved;
    public byte* Broker;
    public byte* Program;
}
