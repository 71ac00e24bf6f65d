// LabException.cs - a lab step that failed, with what to do about it.
namespace LaneShim.Lab.Lab;

/// <summary>`lab up`, `down` or `status` could not do its job; the message is for the user.</summary>
internal sealed class LabException(string message) : Exception(message);
