// AuditLog.cs - appends one JSON line per broker decision to a file, off the request path, losing nothing on a clean shutdown.
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace LaneShim.Broker.Audit;

/// <summary>
/// Decisions are queued (an unbounded channel: a handler never waits for the disk) and a single writer appends them,
/// flushing after each batch. <see cref="DisposeAsync"/> stops taking new records and writes every queued one before
/// it returns, so SIGTERM loses no line. The file is created with mode 0640 and its directory if missing.
/// </summary>
public sealed class AuditLog : IAsyncDisposable
{
    private readonly Channel<AuditRecord> _queue = Channel.CreateUnbounded<AuditRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly FileStream _file;
    private readonly Task _writer;
    private long _written;

    private AuditLog(string path, FileStream file)
    {
        Path = path;
        _file = file;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>The file the log appends to.</summary>
    public string Path { get; }

    /// <summary>Lines written to the file so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Opens (creating) <paramref name="path"/> for appending.</summary>
    /// <exception cref="IOException">The file or its directory cannot be created or opened.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission.</exception>
    public static AuditLog Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var options = new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        }

        return new AuditLog(path, new FileStream(path, options));
    }

    /// <summary>Queues one record; never blocks. After disposal records are dropped.</summary>
    public void Write(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _queue.Writer.TryWrite(record);
    }

    /// <summary>Writes every queued record, then closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        await _file.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>One record as its JSON line (without the newline); absent fields are left out.</summary>
    public static string Format(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return JsonSerializer.Serialize(record, AuditJson.Default.AuditRecord);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new StringBuilder();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            int count = 0;
            batch.Clear();
            while (_queue.Reader.TryRead(out AuditRecord? record))
            {
                batch.Append(Format(record)).Append('\n');
                count++;
            }

            try
            {
                byte[] bytes = Encoding.UTF8.GetBytes(batch.ToString());
                await _file.WriteAsync(bytes).ConfigureAwait(false);
                await _file.FlushAsync().ConfigureAwait(false);
                Interlocked.Add(ref _written, count);
            }
            catch (IOException e)
            {
                // A full disk must not stop the broker; the decision was still made and logged by the service.
                Console.Error.WriteLine($"laneshim broker: audit log {Path}: {e.Message}");
            }
        }
    }
}
