// CallDeadline.cs - hands a call's deadline to the HTTP/2 connection without Grpc.Net.Client's deadline timer.
using System.Diagnostics;

namespace LaneShim.Grpc;

/// <summary>
/// The deadline of the calls made inside a scope, for <see cref="BrokerTransport.Direct"/> channels. Grpc.Net.Client
/// arms a <see cref="System.Threading.Timer"/> for every call that has a <c>CallOptions.Deadline</c>, and the first
/// such timer starts the runtime's timer thread: in the agent, a thread (and a malloc arena) in someone else's process.
/// Inside a scope, calls are made without a deadline option; the connection sends <c>grpc-timeout</c> itself and bounds
/// every wait (connect, send, poll) by the same instant, failing the call with DEADLINE_EXCEEDED when it passes.
/// </summary>
internal static class CallDeadline
{
    private static readonly AsyncLocal<long> s_due = new();

    /// <summary>The deadline of the current scope as a <see cref="Stopwatch"/> timestamp; 0 outside any scope.</summary>
    public static long Due => s_due.Value;

    /// <summary>Calls made until the returned scope is disposed end by <paramref name="timeout"/> from now.</summary>
    public static Scope After(TimeSpan timeout) => Until(Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency));

    /// <summary>Calls made until the returned scope is disposed end by <paramref name="stopwatchDue"/>.</summary>
    public static Scope Until(long stopwatchDue)
    {
        long previous = s_due.Value;
        s_due.Value = Math.Max(stopwatchDue, 1);
        return new Scope(previous);
    }

    /// <summary>Restores the enclosing deadline when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly long _previous;

        internal Scope(long previous) => _previous = previous;

        /// <summary>Ends the scope.</summary>
        public void Dispose() => s_due.Value = _previous;
    }
}
