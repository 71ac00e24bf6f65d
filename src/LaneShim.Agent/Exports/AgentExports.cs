// AgentExports.cs - the C ABI of liblaneshim-agent.so (native/include/laneshim_abi.h). No exception crosses it.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LaneShim.Agent.Abi;

[assembly: DisableRuntimeMarshalling]

namespace LaneShim.Agent.Exports;

/// <summary>Entry points called by the shim; each is a try/catch around the runtime returning a LANESHIM_* code.</summary>
public static unsafe class AgentExports
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
                return AgentRuntime.Initialise(broker, config->DeadlineMs, Utf8(config->Program));
            }
        }
        catch (Exception e)
        {
            return Fail("init", e);
        }
    }

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
            return Fail("prepare", e);
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
            return Fail("notify", e);
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
            return Fail("closed", e);
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
            return Fail("will_serve", e);
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
            return Fail("serve", e);
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
            return Fail("exiting", e);
        }
    }

    private static string? Utf8(byte* s) => s is null ? null : Marshal.PtrToStringUTF8((nint)s);

    private static int Fail(string where, Exception e)
    {
        try
        {
            AgentLog.Error($"{where}: {e.GetType().Name}: {e.Message}");
        }
        catch
        {
            // logging must not turn a failure into a crash
        }
        return AbiConstants.ErrorInternal;
    }
}
