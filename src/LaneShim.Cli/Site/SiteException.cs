// SiteException.cs - a site install or uninstall step that cannot go on, with a message a person can act on.
namespace LaneShim.Cli.Site;

/// <summary>Stops an install or uninstall; the message is printed as is.</summary>
internal sealed class SiteException(string message) : Exception(message);
