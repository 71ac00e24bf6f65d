// SiteLayout.cs - where a site install puts each file, under a root (/ on a real host, a temp tree in tests and staging).
namespace LaneShim.Cli.Site;

/// <summary>
/// The installed layout mirrors out/: lib/ holds the shim with the agent next to it (where the shim looks by default),
/// cli/ the CLI, whose `run` finds ../lib. Target paths are as the installed system sees them; <see cref="Host"/> maps one under the root.
/// </summary>
internal sealed class SiteLayout(string root)
{
    /// <summary>The directory the system is installed into.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    public const string Prefix = "/usr/local/lib/laneshim";
    public const string LibDir = Prefix + "/lib";
    public const string CliDir = Prefix + "/cli";
    public const string Shim = LibDir + "/liblaneshim.so";
    public const string Agent = LibDir + "/liblaneshim-agent.so";
    public const string BinLink = "/usr/local/bin/laneshim";
    public const string BinLinkTarget = "../lib/laneshim/cli/laneshim";
    public const string ConfigDir = "/etc/laneshim";
    public const string ClientConfig = ConfigDir + "/client.conf";
    public const string Policy = ConfigDir + "/lanes.conf";
    public const string Unit = "/etc/systemd/system/laneshim-broker.service";
    public const string Preload = "/etc/ld.so.preload";
    public const string StateDir = "/var/lib/laneshim/install";
    public const string Manifest = StateDir + "/manifest.json";

    /// <summary>True when installing into the running system (so systemd may be told).</summary>
    public bool IsLiveSystem => Root == "/";

    /// <summary>The path of <paramref name="target"/> (absolute, as the installed system sees it) on this host.</summary>
    public string Host(string target) => IsLiveSystem ? target : Path.Combine(Root, target.TrimStart('/'));
}
