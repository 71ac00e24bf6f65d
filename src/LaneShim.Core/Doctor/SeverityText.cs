// SeverityText.cs - the words a severity prints as, in the table and in JSON.
namespace LaneShim.Core.Doctor;

/// <summary>Text forms of <see cref="Severity"/>.</summary>
public static class SeverityText
{
    /// <summary>"ok", "warn" or "limits-throughput".</summary>
    public static string ToText(this Severity severity) => severity switch
    {
        Severity.Ok => "ok",
        Severity.Warn => "warn",
        _ => "limits-throughput",
    };
}
