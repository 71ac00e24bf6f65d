// DoctorBpfPath.cs - `laneshim doctor --json`'s bpfPath: can this host run the kernel (BPF) lane path.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>The BPF lane path's readiness: ready when every check passed.</summary>
/// <param name="Ready">True when nothing is missing.</param>
/// <param name="Checks">Each requirement (kernel config, cgroup v2, bpffs, privileges, program, libbpf, a real load).</param>
internal sealed record DoctorBpfPath(bool Ready, IReadOnlyList<DoctorBpfCheck> Checks);
