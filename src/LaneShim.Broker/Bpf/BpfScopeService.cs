// BpfScopeService.cs - the BpfScope gRPC service (bpf_scope.proto): moves a kernel-identified caller into a run cgroup of the lane path.
using Grpc.Core;
using LaneShim.Broker.Hosting;
using LaneShim.Broker.Identity;
using LaneShim.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Bpf;

/// <summary>
/// Serves <c>laneshim.v1.BpfScope</c> beside LaneBroker, behind the same identity interceptor. The caller must be on
/// the Unix socket (SO_PEERCRED names it) and may move only itself; its children (the command
/// <c>laneshim run --bpf</c> starts) inherit the cgroup.
/// </summary>
public sealed class BpfScopeService : BpfScope.BpfScopeBase, IBrokerHostService
{
    private readonly Func<BpfLanePath?> _path;
    private readonly ILogger _logger;

    /// <summary>Serves with the lane path <paramref name="path"/> returns (null: this broker runs none).</summary>
    public BpfScopeService(Func<BpfLanePath?> path, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(logger);
        _path = path;
        _logger = logger;
    }

    /// <inheritdoc/>
    public void AddTo(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(this);
    }

    /// <inheritdoc/>
    public void MapTo(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGrpcService<BpfScopeService>();
    }

    /// <summary>Moves the caller into a new run cgroup; typed statuses for every refusal.</summary>
    public override Task<BpfScopeReply> Enter(BpfScopeRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return Task.FromResult(Enter(request, CallerIdentity.From(context).Local));
        }
        catch (RpcException e)
        {
            return Task.FromException<BpfScopeReply>(e);
        }
    }

    /// <summary>
    /// The handler's logic for any transport: <paramref name="credentials"/> are the kernel's (SO_PEERCRED) for a
    /// Unix-socket caller, null otherwise. Throws <see cref="RpcException"/> with the refusal's status.
    /// </summary>
    public BpfScopeReply Enter(BpfScopeRequest request, PeerCredentials? credentials)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (credentials is not PeerCredentials caller || caller.Pid <= 0)
        {
            throw Refusal(StatusCode.PermissionDenied, "BpfScope.Enter is served only on the broker's Unix socket, where the kernel names the caller");
        }
        if (request.Pid != 0 && request.Pid != (uint)caller.Pid)
        {
            throw Refusal(StatusCode.PermissionDenied,
                $"pid {request.Pid} is not the caller (pid {caller.Pid}); a process may move only itself into the BPF lane path");
        }
        if (_path() is not { } path)
        {
            throw Refusal(StatusCode.FailedPrecondition,
                "this broker runs no BPF lane path (start it as root with --bpf; `laneshim doctor` says whether the host can)");
        }
        try
        {
            return new BpfScopeReply { Cgroup = path.EnterScope(caller.Pid, caller.Uid) };
        }
        catch (BpfException e)
        {
            _logger.LogWarning("BpfScope.Enter for pid {Pid}: {Error}", caller.Pid, e.Message);
            throw Refusal(StatusCode.Unavailable, e.Message);
        }
    }

    private static RpcException Refusal(StatusCode status, string detail) => new(new Status(status, detail));
}
