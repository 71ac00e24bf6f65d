// IAccountNames.cs - how the policy parser turns user and group names into ids (Core does no I/O; the broker supplies the system's).
namespace LaneShim.Core;

/// <summary>Looks up user and group names, as <c>getpwnam</c>/<c>getgrnam</c> would.</summary>
public interface IAccountNames
{
    /// <summary>The uid of <paramref name="name"/>, or null when there is no such user.</summary>
    uint? UserId(string name);

    /// <summary>The gid of <paramref name="name"/>, or null when there is no such group.</summary>
    uint? GroupId(string name);
}
