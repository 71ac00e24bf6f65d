// LoadedValue.cs - one sysctl as --apply or --revert left it: before, after, and whether it took.
namespace LaneShim.Cli.Doctor;

/// <summary>One live sysctl change and its outcome.</summary>
/// <param name="Key">The dotted sysctl name.</param>
/// <param name="Before">The live value before (null: unreadable).</param>
/// <param name="Value">The value that was to be set.</param>
/// <param name="Status">What happened.</param>
/// <param name="Message">The error, for <see cref="LoadStatus.Failed"/>.</param>
internal sealed record LoadedValue(string Key, string? Before, string Value, LoadStatus Status, string? Message = null);
