// DemoResultsGrant.cs - what the broker granted a run's server end, as results.json records it ("server"."granted").
namespace LaneShim.Lab.Demo;

/// <summary>
/// <paramref name="By"/> "connection" (the accepted socket's own lease holder) or "listener" (the listening socket's
/// lane, which the kernel copies into accepted sockets); <paramref name="PacingBps"/> in bit/s.
/// </summary>
internal sealed record DemoResultsGrant(string By, string Cc, long Sndbuf, string SndbufMode, long PacingBps);
