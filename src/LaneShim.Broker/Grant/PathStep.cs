// PathStep.cs - the lane's path and the rate and RTT it is sized for: topology path, learned rates, the caller's own ask.
using LaneShim.Broker.Audit;
using LaneShim.Broker.Paths;
using LaneShim.Broker.Services;
using LaneShim.Broker.Telemetry;
using LaneShim.Core;

namespace LaneShim.Broker.Grant;

/// <summary>
/// Chooses the RTT (class, learned, or the topology path's), narrows the class rate to the path's bottleneck, to what
/// recent flows to the destination achieved when they were receiver-limited, and to the rate the caller asked for.
/// Never refuses.
/// </summary>
internal sealed class PathStep(RttLearner rttLearner, PathService? paths, RateLearner rates) : IGrantStep
{
    /// <inheritdoc/>
    public string Name => "path";

    /// <inheritdoc/>
    public ValueTask<CallOutcome?> RunAsync(GrantContext grant)
    {
        LaneClass laneClass = grant.LaneClass;
        FlowFacts facts = grant.Facts;
        RttChoice rtt = rttLearner.Choose(laneClass, facts.RemoteAddress);
        string pathNote = "";
        grant.LocalEnd = RequestReader.TryEndpoint(grant.Request.Flow.Local);
        grant.RemoteEnd = RequestReader.TryEndpoint(grant.Request.Flow.Remote);
        if (paths is not null && grant.LocalEnd is not null && grant.RemoteEnd is not null && facts.Direction != FlowDirection.Listen)
        {
            // A lane on a known path is sized by that path: its bottleneck and its round-trip time.
            grant.Path = paths.PathFor(grant.LocalEnd.Address, grant.RemoteEnd.Address, out string why);
            if (grant.Path is { } path)
            {
                laneClass = laneClass with { RateBps = Math.Min(laneClass.RateBps, path.BottleneckBps) };
                rtt = new RttChoice(path.Rtt, RttSource.Fixed);
                pathNote = $"; path {path.Id} (bottleneck {Units.FormatRate(path.BottleneckBps)}, RTT {Units.FormatDuration(path.Rtt)})";
            }
            else
            {
                pathNote = $"; no lane path: {why}";
            }
        }

        if (facts.RemoteAddress is { } remoteAddress && rates.Cap(remoteAddress, laneClass.RateBps, out string rateNote) is ulong learnedRate)
        {
            laneClass = laneClass with { RateBps = learnedRate };
            pathNote += rateNote;
        }

        ulong asked = grant.Request.RateBps;
        if (asked > 0 && asked < laneClass.RateBps)
        {
            // A caller accepting a counter-offer (or wanting less) asks for a rate; never more than the class gives.
            laneClass = laneClass with { RateBps = asked };
            pathNote += $"; rate {Units.FormatRate(asked)} as asked";
        }

        grant.LaneClass = laneClass;
        grant.Rtt = rtt;
        grant.PathNote = pathNote;
        return ValueTask.FromResult<CallOutcome?>(null);
    }
}
