// IBrokerHostService.cs - a gRPC service a BrokerHost serves beside LaneBroker, behind the same interceptors.
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LaneShim.Broker.Hosting;

/// <summary>
/// An extra service on the broker's listener (for instance the BPF lane path's scope service): it registers itself
/// with the host's services and maps its endpoints. The identity and outcome interceptors run for it as for LaneBroker.
/// </summary>
public interface IBrokerHostService
{
    /// <summary>Registers the service instance (and anything it needs) with the host.</summary>
    void AddTo(IServiceCollection services);

    /// <summary>Maps its gRPC service on the host's endpoints.</summary>
    void MapTo(IEndpointRouteBuilder endpoints);
}
