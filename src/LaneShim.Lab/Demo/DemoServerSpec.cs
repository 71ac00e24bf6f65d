// DemoServerSpec.cs - how a mover's server is started for one mode.
namespace LaneShim.Lab.Demo;

/// <summary>
/// The server's command line (run in the server namespace), the TCP port that shows it is ready, and whether it
/// runs under `laneshim run` (<see cref="Wrapped"/>).
/// </summary>
internal sealed record DemoServerSpec(string Name, IReadOnlyList<string> Argv, int Port, bool Wrapped = false, bool KernelPath = false);
