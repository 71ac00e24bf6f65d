// SocketExports.cs - the agent's work on a program's sockets: laneshim_agent_prepare_socket, _notify_connected, _notify_closed.
using System.Runtime.InteropServices;
using LaneShim.Agent.Abi;

namespace LaneShim.Agent.Exports;

/// <summary>Entry points the shim calls around connect(), accept(), listen() and the last close() of a lane.</summary>
public static unsafe class SocketExports
{
    /// <summary>laneshim_agent_prepare_socket: get and apply a lane before the real connect/listen, or on an accepted socket.</summary>
    [UnmanagedCallersOnly(EntryPoint = "laneshim_agent_prepare_socket")]
    public static int PrepareSocket(LaneshimFlow* flow, LaneshimOutcome* outcome)
    {
        try
        {
            if (flow is null || outcome is null || flow->Fd < 0 ||
                flow->Direction is < AbiConstants.DirOutbound or > AbiConstants.DirListen)
            {
                return AbiConstants.ErrorInvalid;
            }
            AgentRuntime? runtime = AgentRuntime.Current;
            if (runtime is null)
            {
                return AbiConstants.ErrorNotReady;
            }
            *outcome = default;
            return runtime.Prepare(in *flow, ref *outcome);
        }
        catch (Exception e)
        {
            return ExportFailure.Code("prepare", e);
        }
    }

    /// <summary>laneshim_agent_notify_connected: the real connect() returned; report the flow off the hot path.</summary>
    [UnmanagedCallersOnly(EntryPoint = "laneshim_agent_notify_connected")]
    public static int NotifyConnected(int fd, int connectErrno)
    {
        try
        {
            AgentRuntime.Current?.Report(fd, connectErrno);
            return AbiConstants.Ok;
        }
        catch (Exception e)
        {
            return ExportFailure.Code("notify", e);
        }
    }

    /// <summary>laneshim_agent_notify_closed: the last descriptor of a lane socket is closing; release or report off the hot path.</summary>
    [UnmanagedCallersOnly(EntryPoint = "laneshim_agent_notify_closed")]
    public static int NotifyClosed(int fd)
    {
        try
        {
            AgentRuntime.Current?.Closed(fd);
            return AbiConstants.Ok;
        }
        catch (Exception e)
        {
            return ExportFailure.Code("closed", e);
        }
    }
}
