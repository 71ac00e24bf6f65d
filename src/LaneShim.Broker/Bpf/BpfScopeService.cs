// BpfScopeService.cs - the EnterBpfScope handler: moves a kernel-identified caller into a run cgroup of the lane path.
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Bpf;

/// <summary>
/// Serves <c>EnterBpfScope</c>. The caller must be on the Unix socket (SO_PEERCRED names it) and may move only itself;
/// its children (the command <c>laneshim run --bpf</c> starts) inherit the cgroup.
/// </summary>
public sealed class BpfScopeService
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

    /// <summary>Registers the method.</summary>
    public GrpcServiceDefinition Bind(GrpcServiceDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.AddUnary<BpfScopeRequest, BpfScopeReply>(LaneBrokerMethods.EnterBpfScope, BpfScopeRequest.Parser, EnterBpfScope);
    }

    /// <summary>Moves the caller into a new run cgroup; typed statuses for every refusal.</summary>
    public Task<BpfScopeReply> EnterBpfScope(BpfScopeRequest request, ServerCallContext context)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(context);
            return Task.FromResult(Enter(request, context.Credentials));
        }
        catch (Exception e)
        {
            return Task.FromException<BpfScopeReply>(e);
        }
    }

    /// <summary>
    /// The handler's logic for any transport: <paramref name="credentials"/> are the kernel's (SO_PEERCRED) for a
    /// Unix-socket caller, null otherwise. Throws <see cref="GrpcException"/> with the refusal's status.
    /// </summary>
    public BpfScopeReply Enter(BpfScopeRequest request, PeerCredentials? credentials)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (credentials is not PeerCredentials caller || caller.Pid <= 0)
        {
            throw new GrpcException(GrpcStatusCode.PermissionDenied,
                "EnterBpfScope is served only on the broker's Unix socket, where the kernel names the caller");
        }
        if (request.Pid != 0 && request.Pid != (uint)caller.Pid)
        {
            throw new GrpcException(GrpcStatusCode.PermissionDenied,
                $"pid {request.Pid} is not the caller (pid {caller.Pid}); a process may move only itself into the BPF lane path");
        }
        if (_path() is not { } path)
        {
            throw new GrpcException(GrpcStatusCode.FailedPrecondition,
                "this broker runs no BPF lane path (start it as root with --bpf; `laneshim doctor` says whether the host can)");
        }
        try
        {
            return new BpfScopeReply { Cgroup = path.EnterScope(caller.Pid, caller.Uid) };
        }
        catch (BpfException e)
        {
            _logger.LogWarning("EnterBpfScope for pid {Pid}: {Error}", caller.Pid, e.Message);
            throw new GrpcException(GrpcStatusCode.Unavailable, e.Message);
        }
    }
}
