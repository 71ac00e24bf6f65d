// AdmissionRefusal.cs - why a grant did not fit: the tightest link and what it still has free, and the counter-offer.
using LaneShim.Core;
using Grpc.Core;

namespace LaneShim.Broker.Leases;

/// <summary>A request that would oversubscribe <paramref name="Link"/>, which has <paramref name="FreeBps"/> free.</summary>
public sealed record AdmissionRefusal(LinkDemand Link, ulong FreeBps)
{
    /// <summary>The gRPC trailer (and header, for Trailers-Only answers) carrying the offered rate in bits per second.</summary>
    public const string OfferMetadata = "laneshim-offer-bps";

    /// <summary>The rate that would be granted now, or 0 when what is free is below <paramref name="minRateBps"/>.</summary>
    public ulong Offer(ulong minRateBps) => FreeBps >= minRateBps ? FreeBps : 0;

    /// <summary>
    /// RESOURCE_EXHAUSTED with the link, what it has free, and the counter-offer both in words and as
    /// <see cref="OfferMetadata"/> so a caller can accept it by asking again with <c>rate_bps</c> set to it.
    /// </summary>
    public RpcException ToException(ulong askedBps, ulong minRateBps)
    {
        ulong offer = Offer(minRateBps);
        string free = $"{Link.Name} has {Units.FormatRate(FreeBps)} of {Units.FormatRate(Link.CapacityBps)} free, {Units.FormatRate(askedBps)} asked";
        if (offer == 0)
        {
            return new RpcException(new Status(StatusCode.ResourceExhausted,
                $"{free}; nothing offered below the class minimum {Units.FormatRate(minRateBps)}: retry when lanes are released"));
        }
        return new RpcException(
            new Status(StatusCode.ResourceExhausted, $"{free}; offered {Units.FormatRate(offer)} (ask again with rate_bps={offer})"),
            new Metadata { { OfferMetadata, offer.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
    }
}
