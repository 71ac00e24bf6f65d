// GrantValidatorTests.cs - the agent refuses grants no sane broker sends, and accepts the ones ours sends.
using LaneShim.Protocol.V1;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Agent.Tests;

[TestClass]
public sealed class GrantValidatorTests
{
    private const long Now = 1_800_000_000_000;

    private static LaneGrant Good() => new()
    {
        LeaseId = "lease-1", ExpiresUnixMs = Now + 600_000, LaneClass = "bulk", SndbufBytes = 10_000_000, SndbufMode = BufferMode.Set,
        RcvbufBytes = 10_000_000, RcvbufMode = BufferMode.Force, Congestion = "cubic", Dscp = 10, NotsentLowat = 131072,
    };

    [TestMethod]
    public void GoodGrant_IsAccepted() => Assert.IsNull(GrantValidator.Problem(Good(), Now));

    [TestMethod]
    [DataRow("no lease id")]
    [DataRow("expired")]
    [DataRow("expires in a year")]
    [DataRow("1 TB send buffer")]
    [DataRow("negative receive buffer")]
    [DataRow("unknown buffer mode")]
    [DataRow("dscp 64")]
    [DataRow("path in congestion name")]
    [DataRow("control character in congestion name")]
    [DataRow("huge notsent_lowat")]
    [DataRow("long lane class")]
    public void BadGrant_IsRefused(string what)
    {
        LaneGrant g = Good();
        switch (what)
        {
            case "no lease id": g.LeaseId = ""; break;
            case "expired": g.ExpiresUnixMs = Now - 1; break;
            case "expires in a year": g.ExpiresUnixMs = Now + 365L * 86_400_000; break;
            case "1 TB send buffer": g.SndbufBytes = 1L << 40; break;
            case "negative receive buffer": g.RcvbufBytes = -1; break;
            case "unknown buffer mode": g.SndbufMode = (BufferMode)77; break;
            case "dscp 64": g.Dscp = 64; break;
            case "path in congestion name": g.Congestion = "../../etc"; break;
            case "control character in congestion name": g.Congestion = "cub\nic"; break;
            case "huge notsent_lowat": g.NotsentLowat = 1u << 31; break;
            case "long lane class": g.LaneClass = new string('c', 300); break;
        }
        string? problem = GrantValidator.Problem(g, Now);
        Assert.IsNotNull(problem, what);
        Assert.DoesNotContain("\n", problem, "a refusal is one log line");
    }
}
