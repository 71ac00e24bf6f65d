// CallRecord.cs - where a call's outcome waits for the outcome interceptor, in ServerCallContext.UserState.
using Grpc.Core;

namespace LaneShim.Broker.Audit;

/// <summary>The outcome slot of one call; handlers fill it, <see cref="OutcomeInterceptor"/> reads it when the call ends.</summary>
public sealed class CallRecord
{
    private static readonly object Key = new();

    /// <summary>What the call decided; null when it decided nothing worth recording.</summary>
    public CallOutcome? Outcome { get; set; }

    /// <summary>The record of <paramref name="context"/>, made on first use (a call that bypassed the interceptors records nowhere).</summary>
    public static CallRecord Of(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.UserState.TryGetValue(Key, out object? known) || known is not CallRecord record)
        {
            record = new CallRecord();
            context.UserState[Key] = record;
        }

        return record;
    }

    /// <summary>Records <paramref name="outcome"/> on <paramref name="context"/> and returns it.</summary>
    public static CallOutcome Set(ServerCallContext context, CallOutcome outcome)
    {
        Of(context).Outcome = outcome;
        return outcome;
    }

    /// <summary>Records a refusal and returns the exception to throw.</summary>
    public static RpcException Refuse(ServerCallContext context, CallOutcome outcome) => Set(context, outcome).ToException();
}
