// RuleAction.cs - what a matching policy line does with a flow.
namespace LaneShim.Core;

/// <summary>What a matching rule does.</summary>
public enum RuleAction
{
    /// <summary>A <c>rule ... -> class</c> line: grant that class.</summary>
    Grant,

    /// <summary>A <c>deny ...</c> line: refuse, with a reason.</summary>
    Deny,
}
