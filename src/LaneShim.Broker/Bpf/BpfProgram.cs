// BpfProgram.cs - the loaded lane path: the object's programs and pinned maps, its cgroup attachments, map writes and
// ring-buffer reads, through the loader library.
using System.Runtime.InteropServices;
using System.Text;

namespace LaneShim.Broker.Bpf;

/// <summary>
/// One loaded copy of <c>laneshim.bpf.o</c>. Programs are attached as links owned by this process, so they leave the
/// cgroups when it exits, even by SIGKILL; the pinned maps are removed by <see cref="Dispose"/> (and, after a SIGKILL,
/// by the next broker's <see cref="BpfPins.RemoveStale"/>).
/// </summary>
public sealed unsafe class BpfProgram : IDisposable
{
    private const int ErrorLength = 16384;
    private readonly Lock _lock = new();
    private readonly HashSet<(string Hex, int Length)> _written = [];
    private nint _handle;

    private BpfProgram(nint handle, string? pinDirectory)
    {
        _handle = handle;
        PinDirectory = pinDirectory;
    }

    /// <summary>Where the maps are pinned, or null.</summary>
    public string? PinDirectory { get; }

    /// <summary>Where to find liblaneshim-bpf.so first (set before the first load).</summary>
    public static void UseLibraryDirectory(string directory) => BpfNative.UseDirectory(directory);

    /// <summary>Loads the object file and pins its maps under <paramref name="pinDirectory"/> (null: no pins).</summary>
    /// <exception cref="BpfException">The library, the object or the kernel refused; the message carries libbpf's log tail.</exception>
    public static BpfProgram Load(string objectPath, string? pinDirectory)
    {
        ArgumentNullException.ThrowIfNull(objectPath);
        byte* error = stackalloc byte[ErrorLength];
        error[0] = 0;
        int rc;
        nint handle;
        try
        {
            rc = BpfNative.Open(objectPath, pinDirectory, out handle, error, ErrorLength);
        }
        catch (DllNotFoundException e)
        {
            throw new BpfException($"{BpfNative.Library} is missing (run ./build.sh): {e.Message}");
        }
        if (rc < 0 || handle == 0)
        {
            string log = Text(error);
            string tail = log.Length > 2000 ? "…" + log[^2000..] : log;
            throw new BpfException($"cannot load {objectPath}: {Describe(-rc)}{(tail.Length > 0 ? "\n" + tail : "")}", -rc);
        }
        return new BpfProgram(handle, pinDirectory);
    }

    /// <summary>Attaches the programs to a cgroup v2 directory; returns the attachment number.</summary>
    public int Attach(string cgroupPath)
    {
        ArgumentNullException.ThrowIfNull(cgroupPath);
        byte* error = stackalloc byte[1024];
        error[0] = 0;
        lock (_lock)
        {
            int rc = BpfNative.Attach(Handle(), cgroupPath, error, 1024);
            return rc >= 0 ? rc : throw new BpfException(Text(error) is { Length: > 0 } t ? t : $"cannot attach to {cgroupPath}: {Describe(-rc)}", -rc);
        }
    }

    /// <summary>Detaches one attachment.</summary>
    public void Detach(int attachment)
    {
        lock (_lock)
        {
            BpfNative.Detach(Handle(), attachment);
        }
    }

    /// <summary>Replaces the maps' policy with <paramref name="image"/>; stale prefixes are deleted.</summary>
    public void Write(BpfMapImage image, string defaultCongestion)
    {
        ArgumentNullException.ThrowIfNull(image);
        lock (_lock)
        {
            nint h = Handle();
            for (uint i = 0; i < image.Classes.Count; i++)
            {
                BpfClassSettings settings = image.Classes[(int)i];
                Check(BpfNative.Update(h, BpfNative.MapClasses, &i, &settings), "classes");
            }
            for (uint i = 0; i < image.Rules.Count; i++)
            {
                BpfRule rule = image.Rules[(int)i];
                Check(BpfNative.Update(h, BpfNative.MapRules, &i, &rule), "rules");
            }
            var now = new HashSet<(string, int)>();
            foreach ((byte[] address, int length, ulong mask) in image.Prefixes)
            {
                BpfPrefixKey key = Key(address, length);
                ulong value = mask;
                Check(BpfNative.Update(h, BpfNative.MapPrefixes, &key, &value), "prefixes");
                now.Add((Convert.ToHexString(address), length));
            }
            foreach ((string hex, int length) in _written.Except(now).ToList())
            {
                BpfPrefixKey key = Key(Convert.FromHexString(hex), length);
                BpfNative.Delete(h, BpfNative.MapPrefixes, &key);
            }
            _written.Clear();
            _written.UnionWith(now);
            var config = new BpfConfig { Enabled = 1, RuleCount = (uint)image.Rules.Count, NoDestinationMask = image.NoDestinationMask, BrokerTgid = (uint)Environment.ProcessId };
            BpfPolicyCompiler.WriteName(config.DefaultCongestion, defaultCongestion);
            uint zero = 0;
            Check(BpfNative.Update(h, BpfNative.MapConfig, &zero, &config), "config");
        }
    }

    /// <summary>Tells the socket with <paramref name="cookie"/> the broker's admission verdict.</summary>
    public void SetVerdict(ulong cookie, uint verdict)
    {
        lock (_lock)
        {
            BpfNative.Update(Handle(), BpfNative.MapVerdicts, &cookie, &verdict);
        }
    }

    /// <summary>Forgets a verdict no socket will read (its flow closed first).</summary>
    public void ClearVerdict(ulong cookie)
    {
        lock (_lock)
        {
            BpfNative.Delete(Handle(), BpfNative.MapVerdicts, &cookie);
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for events and copies them into <paramref name="events"/>.</summary>
    public int Poll(Span<BpfEvent> events, int timeoutMs)
    {
        // Not under the lock: only the reader thread polls, and libbpf's ring buffer has its own state.
        fixed (BpfEvent* p = events)
        {
            int n = BpfNative.Poll(Volatile.Read(ref _handle), p, events.Length, timeoutMs);
            return n >= 0 ? n : throw new BpfException($"reading the ring buffer: {Describe(-n)}", -n);
        }
    }

    /// <summary>The C side's size of a shared struct (0 key, 1 rule, 2 class, 3 config, 4 event, 5 socket note).</summary>
    public static int NativeSizeOf(int which) => BpfNative.SizeOf(which);

    /// <summary>Detaches every attachment, unpins the maps and frees the object.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            nint h = Interlocked.Exchange(ref _handle, 0);
            if (h != 0)
            {
                BpfNative.Close(h);
            }
        }
    }

    private nint Handle() => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(BpfProgram));

    private static BpfPrefixKey Key(byte[] address, int length)
    {
        var key = new BpfPrefixKey { PrefixLength = (uint)length };
        for (int i = 0; i < 16; i++)
        {
            key.Address[i] = address[i];
        }
        return key;
    }

    private static void Check(int rc, string map)
    {
        if (rc < 0)
        {
            throw new BpfException($"writing the {map} map: {Describe(-rc)}", -rc);
        }
    }

    internal static string Describe(int errno) => errno == 0 ? "failed" : $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    private static string Text(byte* buffer) => Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(buffer)).Trim();
}
