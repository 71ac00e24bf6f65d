// GrpcClientWaitTests.cs - the blocking wait behind CallUnary: released at the deadline whatever the clock arithmetic gives.
using System.Diagnostics;

namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class GrpcClientWaitTests
{
    [TestMethod]
    [DataRow(-5.0)]
    [DataRow(-1.5)]
    [DataRow(0.0)]
    [DataRow(0.5)]
    [DataRow(4.5)]  // Lead - 1.5 ms: the coarse phase's remaining time truncates to -1, which is Timeout.Infinite
    [DataRow(5.5)]
    [DataRow(6.5)]
    [DataRow(7.5)]
    [DataRow(20.0)]
    public void WaitUntil_CallNeverCompletes_ReturnsFalseAtDue(double dueInMs)
    {
        var never = new TaskCompletionSource().Task;
        long due = DeadlineTimer.TimestampAfter(Stopwatch.GetTimestamp(), TimeSpan.FromMilliseconds(dueInMs));

        // On another thread, so a regression shows as a failure rather than a hung test run.
        Task<bool> wait = Task.Factory.StartNew(() => GrpcClient.WaitUntil(never, due, CancellationToken.None), TaskCreationOptions.LongRunning);

        Assert.IsTrue(wait.Wait(TimeSpan.FromSeconds(2)), $"WaitUntil did not return for a deadline {dueInMs} ms away");
        Assert.IsFalse(wait.Result);
        long late = Stopwatch.GetTimestamp() - due;
        Assert.IsTrue(late >= 0, "returned before the deadline");
    }

    [TestMethod]
    public void WaitUntil_CallCompletes_ReturnsTrueEarly()
    {
        var tcs = new TaskCompletionSource();
        long due = DeadlineTimer.TimestampAfter(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(5));
        _ = Task.Run(async () =>
        {
            await Task.Delay(10);
            tcs.SetResult();
        });

        var sw = Stopwatch.StartNew();
        Assert.IsTrue(GrpcClient.WaitUntil(tcs.Task, due, CancellationToken.None));
        Assert.IsTrue(sw.Elapsed < TimeSpan.FromSeconds(1), $"took {sw.Elapsed}");
    }

    [TestMethod]
    public void WaitUntil_NoDeadlineCallerCancels_ReturnsFalse()
    {
        var never = new TaskCompletionSource().Task;
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));

        Task<bool> wait = Task.Factory.StartNew(() => GrpcClient.WaitUntil(never, long.MaxValue, cts.Token), TaskCreationOptions.LongRunning);

        Assert.IsTrue(wait.Wait(TimeSpan.FromSeconds(2)), "WaitUntil ignored the caller's token");
        Assert.IsFalse(wait.Result);
    }

    [TestMethod]
    public async Task DeadlineTimer_FiresNotEarlyAndWithinTwoMilliseconds()
    {
        var lateness = new List<double>();
        for (int i = 0; i < 20; i++)
        {
            using var cts = new CancellationTokenSource();
            long due = DeadlineTimer.TimestampAfter(Stopwatch.GetTimestamp(), TimeSpan.FromMilliseconds(3 + i));
            using var timer = new DeadlineTimer(due, cts);
            await timer.Expired;
            lateness.Add(Stopwatch.GetElapsedTime(due).TotalMilliseconds);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            while (!cts.IsCancellationRequested && !wait.IsCancellationRequested)
            {
                await Task.Yield();
            }

            Assert.IsTrue(cts.IsCancellationRequested, "the target was not cancelled");
        }

        lateness.Sort();
        Assert.IsTrue(lateness[0] >= 0, $"fired {-lateness[0]:0.00} ms early");
        Assert.IsTrue(lateness[lateness.Count / 2] < 2, $"median lateness {lateness[lateness.Count / 2]:0.00} ms; all: {string.Join(", ", lateness.Select(l => l.ToString("0.00")))}");
    }

    [TestMethod]
    public void DeadlineTimer_DisposedBeforeDue_NeverFires()
    {
        using var cts = new CancellationTokenSource();
        var timer = new DeadlineTimer(DeadlineTimer.TimestampAfter(Stopwatch.GetTimestamp(), TimeSpan.FromMilliseconds(10)), cts);
        timer.Dispose();

        Assert.IsFalse(timer.Expired.Wait(TimeSpan.FromMilliseconds(100)));
        Assert.IsFalse(cts.IsCancellationRequested);
    }
}
