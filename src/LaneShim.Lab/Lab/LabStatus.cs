// LabStatus.cs - `lab status`: compares a lab's state file with what exists and runs, and collects its counters.
namespace LaneShim.Lab.Lab;

/// <summary>Gathers a <see cref="LabStatusReport"/>.</summary>
internal static class LabStatus
{
    public static LabStatusReport Gather(string name)
    {
        IReadOnlySet<string> present = LabTools.Namespaces();
        LabNamespaces ns = LabNamespaces.For(name);
        List<LabNamespaceStatus> namespaces = LabNamespaces.Roles.Select(r => new LabNamespaceStatus(ns.OfRole(r), r, present.Contains(ns.OfRole(r)))).ToList();
        var problems = new List<string>();
        LabState? state;
        try
        {
            state = File.Exists(LabState.FileFor(name)) ? LabState.LoadFile(LabState.FileFor(name)) : null;
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            state = null;
            problems.Add($"{LabState.FileFor(name)} is unreadable: {e.Message}");
        }
        if (state is null)
        {
            List<string> leftovers = namespaces.Where(n => n.Present).Select(n => n.Name).ToList();
            problems.Add(leftovers.Count > 0
                ? $"no state file, but namespaces {string.Join(", ", leftovers)} exist (a crashed lab?): run laneshim-lab lab down --name {name}"
                : $"lab '{name}' is not up: start it with laneshim-lab lab up --name {name}");
            return new LabStatusReport(name, null, namespaces, [], null, problems);
        }

        foreach (LabNamespaceStatus n in namespaces.Where(n => !n.Present))
        {
            problems.Add($"namespace {n.Name} is missing");
        }
        var counters = new Dictionary<string, IReadOnlyDictionary<string, InterfaceCounters>>();
        foreach (LabNamespaceStatus n in namespaces.Where(n => n.Present))
        {
            try
            {
                counters[n.Name] = LabCounters.Interfaces(n.Name);
            }
            catch (Exception e) when (e is LabException or System.Text.Json.JsonException)
            {
                problems.Add(e.Message);
            }
        }
        InterfaceCounters? Counters(LabLinkEnd end)
        {
            if (counters.TryGetValue(end.Namespace, out var devices) && devices.TryGetValue(end.Device, out InterfaceCounters? c))
            {
                return c;
            }
            if (present.Contains(end.Namespace))
            {
                problems.Add($"device {end.Device} is missing from {end.Namespace}");
            }
            return null;
        }

        var links = new List<LabLinkStatus>();
        foreach (LabLink link in state.Links)
        {
            bool? alive = null;
            if (link.Emulator is LabEmulator e)
            {
                alive = ProcessTable.IsAlive(e.Pid) && LabTeardown.IsEmulatorOf(ProcessTable.CommandLine(e.Pid), ns);
                if (alive == false)
                {
                    problems.Add($"the emulator of {link.Name} (pid {e.Pid}) is not running; see {e.LogFile}");
                }
            }
            links.Add(new LabLinkStatus(link, alive, LabCounters.Emulator(link), Counters(link.A), Counters(link.B)));
        }

        MiddleboxCounters? middlebox = null;
        if (present.Contains(state.Middlebox.Namespace))
        {
            try
            {
                middlebox = LabCounters.Middlebox(state);
            }
            catch (Exception e) when (e is LabException or System.Text.Json.JsonException)
            {
                problems.Add(e.Message);
            }
        }
        return new LabStatusReport(name, state, namespaces, links, middlebox, problems);
    }
}
