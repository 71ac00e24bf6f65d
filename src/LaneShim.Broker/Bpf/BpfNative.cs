// BpfNative.cs - P/Invoke into liblaneshim-bpf.so (bpf/loader), the broker's only door to libbpf.
using System.Reflection;
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Bpf;

/// <summary>The loader library's exports; every int result is 0 or more, or -errno.</summary>
internal static unsafe partial class BpfNative
{
    public const string Library = "liblaneshim-bpf.so";

    public const int MapPrefixes = 0, MapRules = 1, MapClasses = 2, MapConfig = 3, MapVerdicts = 4;

    private static string? s_directory;

    static BpfNative()
    {
        NativeLibrary.SetDllImportResolver(typeof(BpfNative).Assembly, Resolve);
    }

    /// <summary>Where the library is looked for first (the broker's lib directory); set before the first call.</summary>
    public static void UseDirectory(string directory) => s_directory = directory;

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_ensure_bpffs", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int EnsureBpffs(string path);

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_open", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string objectPath, string? pinDirectory, out nint handle, byte* error, int errorLength);

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_attach", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Attach(nint handle, string cgroupPath, byte* error, int errorLength);

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_detach")]
    public static partial int Detach(nint handle, int attachment);

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_update")]
    public static partial int Update(nint handle, int map, void* key, void* value);

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_delete")]
    public static partial int Delete(nint handle, int map, void* key);

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_lookup")]
    public static partial int Lookup(nint handle, int map, void* key, void* value);

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_poll")]
    public static partial int Poll(nint handle, BpfEvent* events, int max, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_sizeof")]
    public static partial int SizeOf(int which);

    [LibraryImport(Library, EntryPoint = "laneshim_bpf_close")]
    public static partial void Close(nint handle);

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library)
        {
            return 0;
        }
        if (s_directory is not null && NativeLibrary.TryLoad(Path.Combine(s_directory, Library), out nint handle))
        {
            return handle;
        }
        return NativeLibrary.TryLoad(Path.Combine(AppContext.BaseDirectory, Library), out handle) ? handle : 0;
    }
}
