// AgentRuntime.Prepare.cs - a lane for a flow: the grant cache, the broker (with its offer and backoff), applying it to the socket.
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
    /// <summary>Gets a lane for the flow (cache, then broker) and applies it to the socket.</summary>
    public int Prepare(in LaneshimFlow flow, ref LaneshimOutcome outcome)
    {
        long started = Stopwatch.GetTimestamp();
        bool v4Mapped;
        GrantKey key = CacheKey(flow, out v4Mapped);
        bool privileged = HostProbe.Limits.Privileged;
        if (_cache.TryGet(key, out LaneGrant grant))
        {
            outcome.Applied |= AbiConstants.SetFromCache;
        }
        else
        {
            if (_refused.TryGetValue(key, out long until) && Environment.TickCount64 < until)
            {
                return AbiConstants.NoLane;
            }
            if (_backoff.Active)
            {
                return AbiConstants.ErrorUnavailable;
            }
            LaneshimFlow asked = flow;
            FlowBinder.TryBindEphemeral(ref asked);
            // A late flow has connected already and nobody waits for its lane: it gets LateBudget, not the deadline.
            TimeSpan most = (flow.Flags & AbiConstants.FlowLate) != 0 ? LateBudget : _deadline;
            TimeSpan budget = flow.BudgetUs > 0 ? TimeSpan.FromMicroseconds(Math.Min(flow.BudgetUs, most.TotalMicroseconds)) : most;
            TimeSpan left = budget - Stopwatch.GetElapsedTime(started);
            int code = Ask(BuildRequest(asked), left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left, out grant);
            if (code == AbiConstants.NoLane)
            {
                _refused[key] = Environment.TickCount64 + (long)NegativeTtl.TotalMilliseconds;
            }
            if (code != AbiConstants.Ok)
            {
                return code;
            }
            if (!SocketTuner.IsForOneSocket(grant))
            {
                _cache.Put(key, grant); // a per-flow grant's enforcement matches only its own 5-tuple
            }
        }
        bool fromCache = (outcome.Applied & AbiConstants.SetFromCache) != 0;
        uint set = SocketTuner.Set(flow.Fd, flow.Family, v4Mapped, grant, privileged);
        outcome.Applied |= set;
        // The same grant applied with the same result on the same kind of socket leaves the same values in the
        // kernel: repeat connects on a cached grant skip the six getsockopt calls of the read-back.
        if (fromCache && _readBacks.TryGetValue(grant, out KnownOutcome? known) && known.Set == set && known.Family == flow.Family)
        {
            SocketTuner.CopyReadBack(known.Outcome, ref outcome);
        }
        else
        {
            SocketTuner.ReadBack(flow.Fd, flow.Family, ref outcome);
            if (!SocketTuner.IsForOneSocket(grant))
            {
                _readBacks.AddOrUpdate(grant, new KnownOutcome(set, flow.Family, outcome));
            }
        }
        OpenLane? open = null;
        if (Libc.Cookie(flow.Fd) is ulong cookie and not 0)
        {
            open = new OpenLane(grant.LeaseId, SocketTuner.IsForOneSocket(grant), Stopwatch.GetTimestamp());
            _open[cookie] = open;
            if (!grant.LeaseFollowsConnection)
            {
                _renewer.Track(grant); // renewed in the background while this socket lives
                EnsureService();
            }
        }
        _pending[flow.Fd] = new PendingFlow(grant.LeaseId, flow.Direction, outcome, fromCache, open);
        if (flow.Direction != AbiConstants.DirOutbound)
        {
            Report(flow.Fd, 0); // accepted and listening sockets are complete now; connects report after connect()
        }
        if (AgentLog.Enabled(AbiConstants.LogDebug))
        {
            AgentLog.Debug($"fd {flow.Fd}: lane {grant.LaneClass} lease {grant.LeaseId}: {grant.Reason}");
        }
        return AbiConstants.Ok;
    }

    private int Ask(LaneRequest request, TimeSpan deadline, out LaneGrant grant)
    {
        grant = null!;
        long asked = Stopwatch.GetTimestamp();
        try
        {
            grant = _client.Call((c, o) => c.RequestLane(request, o), deadline);
            _backoff.Answered();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && request.RateBps == 0 && OfferOf(e) is ulong offer
            && deadline - Stopwatch.GetElapsedTime(asked) is var left && left >= TimeSpan.FromMilliseconds(1))
        {
            // Capacity admission offered the rate that is free: take it, once, within the same deadline.
            _backoff.Answered();
            AgentLog.Info($"no lane at the class rate ({e.Status.Detail}); accepting the offer of {offer} bit/s");
            request.RateBps = offer;
            return Ask(request, left, out grant);
        }
        catch (RpcException e)
        {
            switch (e.StatusCode)
            {
                case StatusCode.DeadlineExceeded:
                    _backoff.Failed(slowOnly: true);
                    AgentLog.Info($"broker did not answer within {deadline.TotalMilliseconds:0.#} ms; connecting without a lane");
                    return AbiConstants.ErrorDeadline;
                case StatusCode.Unavailable:
                    _backoff.Failed();
                    AgentLog.Info($"broker unavailable ({e.Status.Detail}); connecting without a lane");
                    return AbiConstants.ErrorUnavailable;
                case StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss or StatusCode.Unimplemented or StatusCode.Cancelled:
                    _backoff.Failed();
                    AgentLog.Info($"broker reply unusable ({e.Message}); connecting without a lane");
                    return AbiConstants.ErrorBadReply;
                default:
                    _backoff.Answered();
                    AgentLog.Info($"no lane: {e.Message}");
                    return AbiConstants.NoLane;
            }
        }
        string? problem = GrantValidator.Problem(grant, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (problem is not null)
        {
            AgentLog.Info($"broker grant rejected: {problem}; connecting without a lane");
            return AbiConstants.ErrorBadReply;
        }
        return AbiConstants.Ok;
    }

    private static ulong? OfferOf(RpcException e) =>
        e.Trailers.GetValue("laneshim-offer-bps") is string text
        && ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong bps) && bps > 0 ? bps : null;

    private LaneRequest BuildRequest(in LaneshimFlow flow)
    {
        var request = new LaneRequest
        {
            Flow = new Flow
            {
                Local = ToEndpoint(flow, local: true),
                Remote = ToEndpoint(flow, local: false),
                Direction = (Direction)flow.Direction,
                Protocol = Libc.IPPROTO_TCP,
            },
            Program = ProgramOf(flow.Fd),
            AppSettings = new SocketSettings(),
            Host = HostProbe.Limits,
        };
        if ((flow.Flags & AbiConstants.FlowAppSndbuf) != 0)
        {
            request.AppSettings.Sndbuf = flow.AppSndbuf;
        }
        if ((flow.Flags & AbiConstants.FlowAppRcvbuf) != 0)
        {
            request.AppSettings.Rcvbuf = flow.AppRcvbuf;
        }
        return request;
    }

    private Program ProgramOf(int fd) => new()
    {
        Path = _program,
        Pid = (uint)Libc.GetPid(),
        Uid = Libc.GetUid(),
        Gid = Libc.GetGid(),
        Fd = fd,
    };

    private static GrantKey CacheKey(in LaneshimFlow flow, out bool v4Mapped)
    {
        fixed (byte* remote = flow.RemoteAddr)
        fixed (byte* local = flow.LocalAddr)
        {
            int length = flow.Family == Libc.AF_INET ? 4 : 16;
            var r = new ReadOnlySpan<byte>(remote, length);
            v4Mapped = length == 16 && r[..10].IndexOfAnyExcept((byte)0) < 0 && r[10] == 0xff && r[11] == 0xff;
            // The plan depends on what the program set itself (a set buffer has no autotuning left),
            // so sockets that differ there do not share a grant.
            int snd = (flow.Flags & AbiConstants.FlowAppSndbuf) != 0 ? flow.AppSndbuf : -1;
            int rcv = (flow.Flags & AbiConstants.FlowAppRcvbuf) != 0 ? flow.AppRcvbuf : -1;
            return flow.Direction switch
            {
                // A server's flows are named by its own port and the client's address.
                AbiConstants.DirInbound => GrantKey.Of(flow.Direction, flow.Family, r, flow.LocalPort, snd, rcv),
                AbiConstants.DirListen => GrantKey.Of(flow.Direction, flow.Family, new ReadOnlySpan<byte>(local, length), flow.LocalPort, snd, rcv),
                _ => GrantKey.Of(flow.Direction, flow.Family, r, flow.RemotePort, snd, rcv),
            };
        }
    }

    private static Endpoint ToEndpoint(in LaneshimFlow flow, bool local)
    {
        int length = flow.Family == Libc.AF_INET ? 4 : 16;
        fixed (byte* l = flow.LocalAddr)
        fixed (byte* r = flow.RemoteAddr)
        {
            return new Endpoint
            {
                Address = ByteString.CopyFrom(new ReadOnlySpan<byte>(local ? l : r, length)),
                Port = local ? flow.LocalPort : flow.RemotePort,
            };
        }
    }
}
