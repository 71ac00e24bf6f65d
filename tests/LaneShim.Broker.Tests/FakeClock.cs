// FakeClock.cs - a TimeProvider the tests move by hand.
namespace LaneShim.Broker.Tests;

/// <summary>A clock that stands still until <see cref="Advance"/> is called.</summary>
internal sealed class FakeClock : TimeProvider
{
    private DateTimeOffset _now;

    public FakeClock(DateTimeOffset start) => _now = start;

    public FakeClock()
        : this(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
