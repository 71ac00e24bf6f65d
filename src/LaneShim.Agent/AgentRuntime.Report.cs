// AgentRuntime.Report.cs - what the agent tells the broker after connect(): the flow's real 5-tuple, what it applied, the first RTT.
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
    /// <summary>After the real connect(): queue the flow's report with its real 5-tuple.</summary>
    public void Report(int fd, int connectErrno)
    {
        if (!_pending.TryRemove(fd, out PendingFlow? pending))
        {
            return;
        }
        if (pending.FromCache && connectErrno is 0 or Libc.EINPROGRESS)
        {
            // The lease and what it applies are known from the flow that asked for it; this flow's 5-tuple and
            // statistics go in its report at close, off the connect path.
            return;
        }
        var report = new FlowReport
        {
            LeaseId = pending.LeaseId,
            Flow = new Flow
            {
                Local = ReadEndpoint(fd, peer: false),
                Remote = pending.Direction == AbiConstants.DirListen ? new Endpoint() : ReadEndpoint(fd, peer: true),
                Direction = (Direction)pending.Direction,
                Protocol = Libc.IPPROTO_TCP,
            },
            Program = ProgramOf(fd),
            Applied = SocketTuner.ToSettings(pending.Outcome),
            ConnectErrno = connectErrno,
        };
        if (connectErrno == 0 && TcpInfoReader.Read(fd) is { } stats)
        {
            report.Stats = stats; // a completed handshake already measured the RTT the broker can learn from
        }
        if (pending.Lane is { PerFlow: true } lane)
        {
            // A short flow closes before the report goes out: its close then sends it with the release.
            var queued = new QueuedReport(report);
            lane.ConnectReport = queued;
            _reporter.Enqueue(queued);
        }
        else
        {
            _reporter.Enqueue(report);
        }
    }

    private FlowReport ClosedReport(int fd, string leaseId, FlowStats stats) => new()
    {
        LeaseId = leaseId,
        Stats = stats,
        Program = ProgramOf(fd),
        Closed = true,
        Flow = new Flow
        {
            Local = ReadEndpoint(fd, peer: false),
            Remote = ReadEndpoint(fd, peer: true),
            Protocol = Libc.IPPROTO_TCP,
        },
    };

    private static Endpoint ReadEndpoint(int fd, bool peer)
    {
        byte* storage = stackalloc byte[128];
        uint length = 128;
        int rc = peer ? Libc.GetPeerName(fd, storage, &length) : Libc.GetSockName(fd, storage, &length);
        if (rc != 0)
        {
            return new Endpoint();
        }
        ushort family = *(ushort*)storage;
        int port = (storage[2] << 8) | storage[3];
        return family switch
        {
            Libc.AF_INET => new Endpoint { Address = ByteString.CopyFrom(new ReadOnlySpan<byte>(storage + 4, 4)), Port = (uint)port },
            Libc.AF_INET6 => new Endpoint { Address = ByteString.CopyFrom(new ReadOnlySpan<byte>(storage + 8, 16)), Port = (uint)port },
            _ => new Endpoint(),
        };
    }
}
