// AgentRuntime.Service.cs - the agent's background work (renewals, reports) on the shim's thread or, only when needed, its own.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using LaneShim.Agent.Abi;
using LaneShim.Agent.Native;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

internal sealed unsafe partial class AgentRuntime
{
    /// <summary>
    /// A lease needs the agent to renew it (the broker does not follow its connection): the shim's thread serves
    /// when there is one; otherwise the agent starts its own service thread once, with the host's signals blocked.
    /// A program with one thread and leases its broker keeps alive never gets one: each thread costs it a 64 MiB
    /// malloc arena of address space.
    /// </summary>
    private void EnsureService()
    {
        if (Volatile.Read(ref _serving) || Interlocked.Exchange(ref _serviceStarted, 1) != 0)
        {
            return;
        }
        Libc.WithHostSignalsBlocked(() => new Thread(Serve) { IsBackground = true, Name = "laneshim-agent" }.Start());
    }

    /// <summary>
    /// The shim's loader thread will serve (laneshim_agent_will_serve, called right after init): a lease granted before
    /// it gets there (while it serves late flows) starts no service thread; its renewal waits for that thread, well
    /// within half the lease's time.
    /// </summary>
    public void WillServe() => Volatile.Write(ref _serving, true);

    /// <summary>
    /// The agent's background work, on the shim's loader thread (laneshim_agent_serve): renews leases every
    /// <see cref="LeaseRenewer.Tick"/> and sends queued reports in between. Never returns; a failure in one round is
    /// logged and the next round goes on.
    /// </summary>
    public void Serve()
    {
        Volatile.Write(ref _serving, true);
        Interlocked.Exchange(ref _serviceStarted, 1);
        while (true)
        {
            try
            {
                _renewer.RenewDue();
                _reporter.DrainOnce(LeaseRenewer.Tick);
            }
            catch (Exception e)
            {
                AgentLog.Error($"service round failed: {e.GetType().Name}: {e.Message}");
                Thread.Sleep(LeaseRenewer.Tick);
            }
        }
    }
}
