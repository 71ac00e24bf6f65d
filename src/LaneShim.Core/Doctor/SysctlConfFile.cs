// SysctlConfFile.cs - the text of /etc/sysctl.d/90-laneshim.conf: the previous file, then LaneShim's block, which wins.
using System.Text;

namespace LaneShim.Core.Doctor;

/// <summary>Renders and reads the sysctl.d file `--apply` writes. Pure text; the CLI does the I/O.</summary>
public static class SysctlConfFile
{
    /// <summary>The file's name in the sysctl.d directory.</summary>
    public const string FileName = "90-laneshim.conf";

    /// <summary>Appended to <see cref="FileName"/> for the previous file (not *.conf, so sysctl --system skips it).</summary>
    public const string BackupSuffix = ".laneshim-backup";

    /// <summary>Appended to <see cref="FileName"/> for the <see cref="ApplyRecord"/>.</summary>
    public const string RecordSuffix = ".laneshim-state";

    /// <summary>The line that starts LaneShim's block.</summary>
    public const string Marker = "# laneshim doctor --apply:";

    /// <summary>
    /// The previous file's text unchanged (null when there was none), then LaneShim's block. Later lines win in both
    /// `sysctl -p` and systemd-sysctl, so the block overrides any earlier value of the same key.
    /// </summary>
    public static string Render(string? previous, IReadOnlyList<SysctlChange> ours)
    {
        ArgumentNullException.ThrowIfNull(ours);
        var text = new StringBuilder();
        if (!string.IsNullOrEmpty(previous))
        {
            text.Append(previous);
            if (!previous.EndsWith('\n'))
            {
                text.Append('\n');
            }

            text.Append('\n');
        }

        text.Append(Marker).Append(" host fixes for LaneShim lanes; `laneshim doctor --revert` restores what was here before.\n");
        foreach (SysctlChange change in ours)
        {
            text.Append(change.Key).Append(" = ").Append(change.Value).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The assignments in LaneShim's block of <paramref name="text"/>; empty when it has no block.</summary>
    public static IReadOnlyList<SysctlChange> ReadBlock(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<SysctlChange>();
        bool inBlock = false;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith(Marker, StringComparison.Ordinal))
            {
                inBlock = true;
                result.Clear();
                continue;
            }

            if (!inBlock || line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                result.Add(new SysctlChange(line[..eq].Trim(), HostSnapshot.Normalize(line[(eq + 1)..])));
            }
        }

        return result;
    }
}
