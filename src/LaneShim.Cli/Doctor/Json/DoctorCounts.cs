// DoctorCounts.cs - how many findings of each severity a doctor report has.
namespace LaneShim.Cli.Doctor.Json;

/// <summary>Findings by severity.</summary>
internal sealed record DoctorCounts(int Ok, int Warn, int LimitsThroughput);
