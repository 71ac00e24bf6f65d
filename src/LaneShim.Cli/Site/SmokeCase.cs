// SmokeCase.cs - one program the smoke test runs with and without the shim.
namespace LaneShim.Cli.Site;

/// <summary>A command line and a name for messages.</summary>
internal sealed record SmokeCase(string Name, string[] Argv);
