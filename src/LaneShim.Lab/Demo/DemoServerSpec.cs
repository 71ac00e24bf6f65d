// DemoServerSpec.cs - how a mover's server is started for one mode.
namespace LaneShim.Lab.Demo;

/// <summary>
/// The server's command line (run in the server namespace) and the TCP port that shows it is ready. In laneshim mode
/// every server runs under `laneshim run`, as site-wide preload would run it, with `--bpf` for a
/// <see cref="KernelPath"/> mover (the kernel lane path).
/// </summary>
internal sealed record DemoServerSpec(string Name, IReadOnlyList<string> Argv, int Port, bool KernelPath = false);
