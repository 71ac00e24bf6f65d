// AgentLog.cs - the agent's log: one line per event to the shim's log fd, only at the level asked for.
using System.Text;
using LaneShim.Agent.Abi;
using LaneShim.Agent.Native;

namespace LaneShim.Agent;

/// <summary>Writes `laneshim-agent[pid]: message` lines with write(2); never to stdout.</summary>
internal static unsafe class AgentLog
{
    private static int _level = AbiConstants.LogOff;
    private static int _fd = 2;

    public static void Configure(int level, int fd)
    {
        _level = level;
        _fd = fd is 1 or < 0 ? 2 : fd; // never stdout
    }

    public static bool Enabled(int level) => level <= _level && _level > AbiConstants.LogOff;

    public static void Error(string message) => Write(AbiConstants.LogError, message);

    public static void Info(string message) => Write(AbiConstants.LogInfo, message);

    public static void Debug(string message) => Write(AbiConstants.LogDebug, message);

    private static void Write(int level, string message)
    {
        if (!Enabled(level))
        {
            return;
        }
        byte[] line = Encoding.UTF8.GetBytes($"laneshim-agent[{Libc.GetPid()}]: {message}\n");
        fixed (byte* p = line)
        {
            Libc.Write(_fd, p, (nuint)line.Length);
        }
    }
}
