// SysctlApplier.cs - --apply writes the fixes to sysctl.d and loads them; --revert puts back the file and the live values.
using LaneShim.Core.Doctor;

namespace LaneShim.Cli.Doctor;

/// <summary>
/// Applies and reverts sysctl fixes. Files in the sysctl.d directory: 90-laneshim.conf (the previous file's text,
/// then LaneShim's block), 90-laneshim.conf.laneshim-backup (a copy of the previous file, when there was one) and
/// 90-laneshim.conf.laneshim-state (the <see cref="ApplyRecord"/>). Both operations are idempotent, and revert
/// after any number of applies leaves the directory and the live values as they were before the first.
/// </summary>
internal sealed class SysctlApplier
{
    private readonly string _conf;
    private readonly string _backup;
    private readonly string _record;
    private readonly ProcSys _proc;

    public SysctlApplier(string directory, ProcSys proc)
    {
        _conf = Path.Combine(directory, SysctlConfFile.FileName);
        _backup = _conf + SysctlConfFile.BackupSuffix;
        _record = _conf + SysctlConfFile.RecordSuffix;
        _proc = proc;
    }

    /// <summary>Writes <paramref name="changes"/> (merged with earlier applies) to the file and sets them live.</summary>
    /// <exception cref="IOException">The directory or a file could not be read or written.</exception>
    /// <exception cref="FormatException">The state file is damaged.</exception>
    public SysctlFileOutcome Apply(IReadOnlyList<SysctlChange> changes)
    {
        ApplyRecord? record = ReadRecord();
        if (record is null && changes.Count == 0)
        {
            return new SysctlFileOutcome { File = _conf, FileAction = "none" };
        }

        string? previousText;
        IReadOnlyList<SysctlChange> ours;
        if (record is null)
        {
            bool hadFile = File.Exists(_conf);
            previousText = hadFile ? File.ReadAllText(_conf) : null;
            record = new ApplyRecord(hadFile, []);
            ours = [];
            if (hadFile)
            {
                File.Copy(_conf, _backup, overwrite: true); // first: a stale backup without a record is not ours to keep
            }
        }
        else
        {
            previousText = record.HadFile ? File.ReadAllText(_backup) : null;
            ours = File.Exists(_conf) ? SysctlConfFile.ReadBlock(File.ReadAllText(_conf)) : [];
        }

        IReadOnlyList<SysctlChange> merged = SysctlChanges.Merge(ours.Concat(changes));
        foreach (SysctlChange change in merged)
        {
            if (_proc.Read(change.Key) is string live)
            {
                record = record.WithPrevious(change.Key, live);
            }
        }

        // Order matters for a crash halfway: the backup (above), then the record, then the file, then the live values.
        WriteIfChanged(_record, record.Format(), null);
        string text = SysctlConfFile.Render(previousText, merged);
        bool written = WriteIfChanged(_conf, text, record.HadFile ? _backup : null);
        return new SysctlFileOutcome
        {
            File = _conf,
            FileAction = written ? "written" : "unchanged",
            Backup = record.HadFile ? _backup : null,
            Values = merged.Select(c => Load(c.Key, c.Value)).ToArray(),
        };
    }

    /// <summary>Restores the previous live values and the previous file (or removes ours), then forgets the record.</summary>
    /// <exception cref="IOException">A file could not be restored.</exception>
    /// <exception cref="FormatException">The state file is damaged.</exception>
    public SysctlFileOutcome Revert()
    {
        ApplyRecord? record = ReadRecord();
        if (record is null)
        {
            return new SysctlFileOutcome { File = _conf, FileAction = "none" };
        }

        LoadedValue[] values = record.Previous.Select(p => Load(p.Key, p.Value)).ToArray();
        string action;
        if (record.HadFile)
        {
            if (!File.Exists(_backup))
            {
                throw new IOException($"{_backup} is missing: cannot restore the previous {SysctlConfFile.FileName}");
            }

            File.Move(_backup, _conf, overwrite: true);
            action = "restored";
        }
        else
        {
            File.Delete(_conf);
            action = "removed";
        }

        File.Delete(_record);

        return new SysctlFileOutcome { File = _conf, FileAction = action, Backup = record.HadFile ? _backup : null, Values = values };
    }

    private ApplyRecord? ReadRecord() =>
        File.Exists(_record) ? ApplyRecord.Parse(File.ReadAllText(_record), _record) : null;

    private LoadedValue Load(string key, string value)
    {
        string? before = _proc.Read(key);
        if (before == value)
        {
            return new LoadedValue(key, before, value, LoadStatus.Unchanged);
        }

        if (_proc.IsReadOnly(key))
        {
            return new LoadedValue(key, before, value, LoadStatus.ReadOnly);
        }

        try
        {
            _proc.Write(key, value);
            return new LoadedValue(key, before, value, LoadStatus.Loaded);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new LoadedValue(key, before, value, LoadStatus.Failed, e.Message);
        }
    }

    // Writes through a temporary file and a rename, so a reader never sees half a file; keeps the mode of modeFrom.
    private static bool WriteIfChanged(string path, string text, string? modeFrom)
    {
        if (File.Exists(path) && File.ReadAllText(path) == text)
        {
            return false;
        }

        string temporary = path + ".laneshim-tmp";
        File.WriteAllText(temporary, text);
        string? source = modeFrom is not null && File.Exists(modeFrom) ? modeFrom : File.Exists(path) ? path : null;
        if (source is not null && OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(source));
        }

        File.Move(temporary, path, overwrite: true);
        return true;
    }
}
