// BrokerTelemetry.cs - what the broker learns from flows: the closed-flow log, achieved rates and the metrics.
namespace LaneShim.Broker.Telemetry;

/// <summary>The telemetry state one broker keeps; shared by the service, ListFlows and /metrics.</summary>
public sealed class BrokerTelemetry
{
    /// <summary>Creates empty telemetry on <paramref name="clock"/>.</summary>
    public BrokerTelemetry(TimeProvider clock, int flowCapacity = FlowLog.DefaultCapacity)
    {
        Flows = new FlowLog(flowCapacity);
        Rates = new RateLearner(clock);
    }

    /// <summary>Recently closed flows.</summary>
    public FlowLog Flows { get; }

    /// <summary>Achieved rates per destination, used to size later grants.</summary>
    public RateLearner Rates { get; }

    /// <summary>Counters for /metrics.</summary>
    public BrokerMetrics Metrics { get; } = new();
}
