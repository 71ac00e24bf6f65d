// CleanupStack.cs - undo actions for everything the demo set up, run last-in first-out, each on its own.
namespace LaneShim.Lab.Demo;

/// <summary>
/// Every step that creates something (the lab, the broker, a temp dir, a hosts file) pushes how to undo it.
/// <see cref="RunAll"/> runs them newest first; one failing does not stop the others, and its message is kept.
/// </summary>
internal sealed class CleanupStack
{
    private readonly Stack<(string What, Action Undo)> _steps = new();
    private readonly object _lock = new();

    public void Push(string what, Action undo)
    {
        lock (_lock)
        {
            _steps.Push((what, undo));
        }
    }

    /// <summary>Runs and forgets every step; returns "what: why" for each that failed.</summary>
    public IReadOnlyList<string> RunAll()
    {
        var problems = new List<string>();
        while (true)
        {
            (string What, Action Undo) step;
            lock (_lock)
            {
                if (!_steps.TryPop(out step))
                {
                    return problems;
                }
            }
            try
            {
                step.Undo();
            }
            catch (Exception e)
            {
                problems.Add($"{step.What}: {e.Message}");
            }
        }
    }
}
