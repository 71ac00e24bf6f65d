// PathEvidence.cs - which path a run's packets took: bytes out of the bypass link's two ends, and what the middlebox forwarded.
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>Counters read before and after a run; <see cref="Minus"/> gives the run's share.</summary>
internal sealed record PathEvidence(long BypassBytes, long MiddleboxBytes)
{
    public static PathEvidence Read(LabState lab)
    {
        long bypass = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice).TxBytes
            + LabCounters.Interface(lab.Namespaces.EdgeB, lab.Path2.EdgeBDevice).TxBytes;
        return new PathEvidence(bypass, LabCounters.Middlebox(lab).ForwardedBytes);
    }

    public PathEvidence Minus(PathEvidence earlier) => new(BypassBytes - earlier.BypassBytes, MiddleboxBytes - earlier.MiddleboxBytes);

    public string Describe() => $"bypass carried {DemoFormat.Bytes(BypassBytes)}, middlebox {DemoFormat.Bytes(MiddleboxBytes)}";
}
