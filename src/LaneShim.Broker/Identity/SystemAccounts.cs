// SystemAccounts.cs - the host's user and group names (/etc/passwd, /etc/group) for policy rules that name them.
using LaneShim.Core;

namespace LaneShim.Broker.Identity;

/// <summary>Reads the account files once per policy load; names are resolved at load, so a typo fails with file:line.</summary>
public static class SystemAccounts
{
    /// <summary>The names in <paramref name="passwd"/> and <paramref name="group"/> (missing files: no names).</summary>
    public static IAccountNames Load(string passwd = "/etc/passwd", string group = "/etc/group") =>
        new AccountNames(ReadOrEmpty(passwd), ReadOrEmpty(group));

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
