// SiteFiles.cs - the files a site install writes (client.conf, lanes.conf, the broker's unit): the same text the Debian package ships.
using System.Reflection;

namespace LaneShim.Cli.Site;

/// <summary>
/// File contents for a site install, read from the CLI's embedded copies of Site/Files/, which the Debian package
/// installs as they are: one source for both ways in.
/// </summary>
internal static class SiteFiles
{
    /// <summary>/etc/laneshim/client.conf, written only when absent: every default, commented out.</summary>
    public static string ClientConfig => Read("client.conf");

    /// <summary>/etc/laneshim/lanes.conf, written only when absent: one modest class for every flow until the site writes its own.</summary>
    public static string Policy => Read("lanes.conf");

    /// <summary>
    /// The broker's unit for an install from a build tree: the packaged unit with the CLI in /usr/local/bin, and its
    /// documentation where that install puts it (it installs no man pages).
    /// </summary>
    public static string Unit => Read("laneshim-broker.service")
        .Replace($"ExecStart={PackageLayout.Cli} ", $"ExecStart={SiteLayout.BinLink} ", StringComparison.Ordinal)
        .Replace("Documentation=man:laneshim-broker(8) man:lanes.conf(5)", $"Documentation=file://{SiteLayout.CliDir}", StringComparison.Ordinal);

    private static string Read(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the CLI was built without its embedded {name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
