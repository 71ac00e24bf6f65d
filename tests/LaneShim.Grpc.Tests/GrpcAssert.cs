// GrpcAssert.cs - assertions on gRPC outcomes: the status code, and that a failure came back within its deadline.
using Grpc.Core;
using System.Diagnostics;

namespace LaneShim.Grpc.Tests;

/// <summary>Runs a call expected to fail and checks how and how fast.</summary>
internal static class GrpcAssert
{
    /// <summary>Awaits <paramref name="call"/>, requires a RpcException (and nothing else) with one of <paramref name="expected"/>.</summary>
    public static async Task<(RpcException Error, TimeSpan Elapsed)> FailsAsync(Func<Task> call, params StatusCode[] expected)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await call();
        }
        catch (RpcException e)
        {
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            Assert.IsTrue(expected.Contains(e.StatusCode), $"expected {string.Join(" or ", expected)}, got {e.StatusCode}: {e.Status.Detail}");
            return (e, elapsed);
        }
        catch (Exception e)
        {
            Assert.Fail($"expected a RpcException ({string.Join(" or ", expected)}), got {e.GetType().FullName}: {e}");
        }

        Assert.Fail($"expected {string.Join(" or ", expected)}, but the call succeeded");
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>
    /// The synchronous form of <see cref="FailsAsync"/>. The call runs on a thread of its own, as the agent's calls do (a
    /// program's thread in connect()), so a client takes its direct path; the test's pool thread waits on a task.
    /// </summary>
    public static (RpcException Error, TimeSpan Elapsed) Fails(Action call, params StatusCode[] expected)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            OnOwnThread(call);
        }
        catch (RpcException e)
        {
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            Assert.IsTrue(expected.Contains(e.StatusCode), $"expected {string.Join(" or ", expected)}, got {e.StatusCode}: {e.Status.Detail}");
            return (e, elapsed);
        }
        catch (Exception e)
        {
            Assert.Fail($"expected a RpcException ({string.Join(" or ", expected)}), got {e.GetType().FullName}: {e}");
        }

        Assert.Fail($"expected {string.Join(" or ", expected)}, but the call succeeded");
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>Runs <paramref name="call"/> on a new thread (not the pool's) and waits for it; exceptions pass through.</summary>
    public static void OnOwnThread(Action call) => Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="call"/> on a new thread (not the pool's) and returns its result.</summary>
    public static T OnOwnThread<T>(Func<T> call) => Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).GetAwaiter().GetResult();

    /// <summary>
    /// Checks that a call gave up no later than <paramref name="deadline"/> plus <paramref name="slack"/>. Iteration 0 of a
    /// loop is not timed: in a JIT process it compiles the deadline path (the NativeAOT agent has nothing to compile).
    /// </summary>
    public static void WithinDeadline(TimeSpan elapsed, TimeSpan deadline, TimeSpan slack, int iteration = 1)
    {
        if (iteration == 0)
        {
            return;
        }

        Assert.IsTrue(elapsed <= deadline + slack,
            $"the call took {elapsed.TotalMilliseconds:0.0} ms; its deadline was {deadline.TotalMilliseconds:0} ms (+{slack.TotalMilliseconds:0} ms allowed)");
    }
}
