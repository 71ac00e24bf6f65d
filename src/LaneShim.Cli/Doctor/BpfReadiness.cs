// BpfReadiness.cs - whether this host can run the kernel (BPF) lane path: kernel config, cgroup v2, bpffs, privileges,
// the built program and loader, and (as root) whether the kernel's verifier accepts the program.
using System.Globalization;
using System.Runtime.InteropServices;
using LaneShim.Broker.Bpf;
using LaneShim.Cli.Native;

namespace LaneShim.Cli.Doctor;

/// <summary>The checks behind the doctor's "BPF lane path" section.</summary>
internal static class BpfReadiness
{
    private const int CapNetAdmin = 12, CapSysAdmin = 21, CapBpf = 39;

    /// <summary>Every check, in the order a person would fix them.</summary>
    public static IReadOnlyList<BpfCheck> Examine(string release, string libraryDirectory)
    {
        var checks = new List<BpfCheck>();
        foreach (string option in new[] { "CONFIG_BPF_SYSCALL", "CONFIG_CGROUP_BPF" })
        {
            string? value = KernelConfig.Value(option, release);
            checks.Add(value switch
            {
                "y" => new BpfCheck(option, true, "y"),
                null => new BpfCheck(option, true, "no kernel config to read (/proc/config.gz, /boot/config-*); the load check below decides"),
                _ => new BpfCheck(option, false, $"{value}: this kernel cannot run the lane path; use a kernel built with {option}=y"),
            });
        }
        string? cgroup = Cgroup2.FindMount();
        checks.Add(cgroup is not null
            ? new BpfCheck("cgroup v2", true, $"mounted at {cgroup}")
            : new BpfCheck("cgroup v2", false, "no cgroup2 mount in /proc/self/mountinfo; mount one (mount -t cgroup2 none /sys/fs/cgroup/unified) or boot with systemd.unified_cgroup_hierarchy"));
        bool bpffs = IsBpffs(BpfPins.BpfFs);
        checks.Add(bpffs
            ? new BpfCheck("bpffs", true, $"mounted at {BpfPins.BpfFs}")
            : new BpfCheck("bpffs", Directory.Exists(BpfPins.BpfFs), Directory.Exists(BpfPins.BpfFs)
                ? $"not mounted at {BpfPins.BpfFs}; the broker mounts it when it starts with --bpf"
                : $"{BpfPins.BpfFs} does not exist: the kernel has no bpffs"));
        checks.Add(File.Exists("/sys/kernel/btf/vmlinux")
            ? new BpfCheck("BTF", true, "/sys/kernel/btf/vmlinux")
            : new BpfCheck("BTF", true, "no /sys/kernel/btf/vmlinux; not needed by this program, but bpftool cannot show its maps' types"));
        ulong caps = EffectiveCapabilities();
        bool privileged = Has(caps, CapSysAdmin) || (Has(caps, CapBpf) && Has(caps, CapNetAdmin));
        checks.Add(privileged
            ? new BpfCheck("privileges", true, Libc.GetEuid() == 0 ? "root" : "CAP_BPF and CAP_NET_ADMIN")
            : new BpfCheck("privileges", false, "the broker that runs the lane path needs root (or CAP_BPF, CAP_NET_ADMIN and write access to the cgroup tree); users need only `laneshim run --bpf`"));
        string obj = Path.Combine(libraryDirectory, "laneshim.bpf.o"), loader = Path.Combine(libraryDirectory, "liblaneshim-bpf.so");
        bool files = File.Exists(obj) && File.Exists(loader);
        checks.Add(files
            ? new BpfCheck("program", true, $"{obj}, {loader}")
            : new BpfCheck("program", false, $"{obj} or {loader} is missing; run ./build.sh"));
        bool libbpf = NativeLibrary.TryLoad("libbpf.so.1", out nint handle);
        if (libbpf)
        {
            NativeLibrary.Free(handle);
        }
        checks.Add(libbpf ? new BpfCheck("libbpf", true, "libbpf.so.1") : new BpfCheck("libbpf", false, "libbpf.so.1 not found; apt-get install libbpf1"));
        if (privileged && files && libbpf)
        {
            checks.Add(LoadCheck(obj, libraryDirectory));
        }
        return checks;
    }

    // The decisive check: the kernel's verifier accepts the program (loaded without pins, attached nowhere, freed).
    private static BpfCheck LoadCheck(string obj, string libraryDirectory)
    {
        BpfProgram.UseLibraryDirectory(libraryDirectory);
        try
        {
            using BpfProgram program = BpfProgram.Load(obj, pinDirectory: null);
            return new BpfCheck("load", true, "the kernel accepts the sock_ops, sock_create and setsockopt programs");
        }
        catch (BpfException e)
        {
            string first = e.Message.Split('\n')[0];
            return new BpfCheck("load", false, first);
        }
    }

    private static bool IsBpffs(string path)
    {
        if (!File.Exists("/proc/self/mountinfo"))
        {
            return false;
        }
        return File.ReadLines("/proc/self/mountinfo").Any(l =>
        {
            int dash = l.IndexOf(" - ", StringComparison.Ordinal);
            string[] before = l.Split(' ');
            return dash > 0 && l[(dash + 3)..].StartsWith("bpf ", StringComparison.Ordinal) && before.Length > 4 && before[4] == path;
        });
    }

    private static ulong EffectiveCapabilities()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal)
                && ulong.TryParse(line["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong caps))
            {
                return caps;
            }
        }
        return 0;
    }

    private static bool Has(ulong caps, int bit) => (caps & (1UL << bit)) != 0;
}
