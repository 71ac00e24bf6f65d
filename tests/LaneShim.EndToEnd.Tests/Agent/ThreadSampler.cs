// ThreadSampler.cs - the python3 lines a test program uses to record every thread it ever had (/proc/self/task/*/comm) and its sockets' congestion control.
namespace LaneShim.EndToEnd.Tests.Agent;

/// <summary>Python helpers prepended to a test script: <c>sample()</c> fills <c>seen</c> (tid: comm); <c>cc(s)</c> reads TCP_CONGESTION.</summary>
internal static class ThreadSampler
{
    public const string Python = """
        import os, socket, sys, time
        seen = {}
        def sample():
            for tid in os.listdir("/proc/self/task"):
                try:
                    with open(f"/proc/self/task/{tid}/comm") as f:
                        seen.setdefault(int(tid), f.read().strip())
                except FileNotFoundError:
                    pass
        def cc(s):
            return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()

        """;
}
