// ProcSys.cs - reads and writes sysctls through /proc/sys in the caller's network namespace.
using LaneShim.Core.Doctor;
using Microsoft.Win32.SafeHandles;

namespace LaneShim.Cli.Doctor;

/// <summary>/proc/sys access by dotted sysctl name.</summary>
internal sealed class ProcSys
{
    private readonly string _root;

    public ProcSys(string root = "/proc/sys")
    {
        _root = root;
    }

    /// <summary>The value with whitespace normalized to single spaces, or null when the key does not exist or cannot be read.</summary>
    public string? Read(string key)
    {
        try
        {
            return HostSnapshot.Normalize(File.ReadAllText(PathOf(key)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True when the key exists but its file has no write permission: a global sysctl seen from a network namespace.</summary>
    public bool IsReadOnly(string key)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return (File.GetUnixFileMode(PathOf(key)) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Writes the value in one write(2), as sysctl -w does. Throws IOException or UnauthorizedAccessException.</summary>
    public void Write(string key, string value)
    {
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(value + "\n");
        using SafeFileHandle handle = File.OpenHandle(PathOf(key), FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, bytes, 0);
    }

    private string PathOf(string key) => Path.Combine(_root, SysctlChange.ProcPath(key));
}
