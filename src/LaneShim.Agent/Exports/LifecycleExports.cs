// LifecycleExports.cs - the agent's life in the host process: laneshim_agent_init, laneshim_agent_serve, laneshim_agent_exiting.
using System.Runtime.InteropServices;
using LaneShim.Agent.Abi;

namespace LaneShim.Agent.Exports;

/// <summary>Entry points for the agent's start, its background work and the process's exit; none lets an exception out.</summary>
public static unsafe class LifecycleExports
{
    private static readonly object InitGate = new();

    // exit() waits at most this long for the broker: a program's exit must not hang on a slow broker.
    private static readonly TimeSpan ExitFlushBound = TimeSpan.FromMilliseconds(300);

    /// <summary>laneshim_agent_init: configure the agent once.</summary>
    [UnmanagedCallersOnly(EntryPoint = "laneshim_agent_init")]
    public static int Init(LaneshimAgentConfig* config)
    {
        try
        {
            if (config is null)
            {
                return AbiConstants.ErrorInvalid;
            }
            if (config->AbiVersion != AbiConstants.AbiVersion)
            {
                return AbiConstants.ErrorAbi;
            }
            AgentLog.Configure(config->LogLevel, config->LogFd);
            lock (InitGate)
            {
                if (AgentRuntime.Current is not null)
                {
                    return AbiConstants.Ok;
                }
                string broker = Utf8(config->Broker) ?? "unix:/run/laneshim/broker.sock";
                return AgentRuntime.Initialise(broker, config->DeadlineMs, Utf8(config->Program), inline: (config->Flags & AbiConstants.InitInline) != 0);
            }
        }
        catch (Exception e)
        {
            return ExportFailure.Code("init", e);
        }
    }

    /// <summary>
    /// laneshim_agent_will_serve: the thread that called init will call laneshim_agent_serve shortly, so the agent
    /// starts no service thread of its own meanwhile.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "laneshim_agent_will_serve")]
    public static int WillServe()
    {
        try
        {
            if (AgentRuntime.Current is not { } runtime)
            {
                return AbiConstants.ErrorNotReady;
            }
            runtime.WillServe();
            return AbiConstants.Ok;
        }
        catch (Exception e)
        {
            return ExportFailure.Code("will_serve", e);
        }
    }

    /// <summary>
    /// laneshim_agent_serve: the agent's background work (lease renewals, flow reports) on the thread the shim lends
    /// it, so the agent starts no thread of its own; returns only if the agent is not initialised.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "laneshim_agent_serve")]
    public static int Serve()
    {
        try
        {
            if (AgentRuntime.Current is not { } runtime)
            {
                return AbiConstants.ErrorNotReady;
            }
            runtime.Serve();
            return AbiConstants.Ok;
        }
        catch (Exception e)
        {
            return ExportFailure.Code("serve", e);
        }
    }

    /// <summary>laneshim_agent_exiting: the process is exiting; flush queued reports within a small bound.</summary>
    [UnmanagedCallersOnly(EntryPoint = "laneshim_agent_exiting")]
    public static int Exiting()
    {
        try
        {
            AgentRuntime.Current?.Exiting(ExitFlushBound);
            return AbiConstants.Ok;
        }
        catch (Exception e)
        {
            return ExportFailure.Code("exiting", e);
        }
    }

    private static string? Utf8(byte* s) => s is null ? null : Marshal.PtrToStringUTF8((nint)s);
}
