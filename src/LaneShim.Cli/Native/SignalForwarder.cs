// SignalForwarder.cs - passes signals to the wrapped command, holding any that arrive before it has started.
namespace LaneShim.Cli.Native;

/// <summary>Forwards signals to a child once attached; signals sent before that are delivered on attach.</summary>
internal sealed class SignalForwarder
{
    private readonly object _gate = new();
    private readonly List<int> _pending = [];
    private ChildProcess? _child;

    public void Send(int signal)
    {
        lock (_gate)
        {
            if (_child is null)
            {
                _pending.Add(signal);
                return;
            }
        }
        _child.Signal(signal);
    }

    public void Attach(ChildProcess child)
    {
        int[] pending;
        lock (_gate)
        {
            _child = child;
            pending = [.. _pending];
            _pending.Clear();
        }
        foreach (int signal in pending)
        {
            child.Signal(signal);
        }
    }
}
