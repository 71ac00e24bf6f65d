// AccountNames.cs - account names from passwd/group-format text, for the policy parser.
using System.Globalization;

namespace LaneShim.Core;

/// <summary>An <see cref="IAccountNames"/> over the text of a passwd file and a group file (name:x:id:...).</summary>
public sealed class AccountNames : IAccountNames
{
    private readonly Dictionary<string, uint> _users;
    private readonly Dictionary<string, uint> _groups;

    /// <summary>Reads both files' text; malformed lines are skipped, as libc does.</summary>
    public AccountNames(string passwdText, string groupText)
    {
        ArgumentNullException.ThrowIfNull(passwdText);
        ArgumentNullException.ThrowIfNull(groupText);
        _users = Read(passwdText);
        _groups = Read(groupText);
    }

    /// <summary>A POSIX-portable account name: letters, digits, '.', '_', '-', not starting with '-', at most 32 characters.</summary>
    public static bool IsValidName(string name) =>
        name.Length is >= 1 and <= 32 && name[0] != '-' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <inheritdoc/>
    public uint? UserId(string name) => _users.TryGetValue(name, out uint id) ? id : null;

    /// <inheritdoc/>
    public uint? GroupId(string name) => _groups.TryGetValue(name, out uint id) ? id : null;

    private static Dictionary<string, uint> Read(string text)
    {
        var ids = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            string[] fields = line.Split(':');
            // The first entry for a name wins, as with getpwnam over files.
            if (fields.Length >= 3 && fields[0].Length > 0 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint id))
            {
                ids.TryAdd(fields[0], id);
            }
        }

        return ids;
    }
}
