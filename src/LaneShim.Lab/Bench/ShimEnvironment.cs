// ShimEnvironment.cs - the environment a process under test gets: the shim preloaded or not, and nothing from the host's /etc/laneshim.
namespace LaneShim.Lab.Bench;

/// <summary>Environment variables for the A (no shim) and B (shim) sides of a comparison.</summary>
internal static class ShimEnvironment
{
    /// <summary>
    /// The shim preloaded with a private empty config file (the host's /etc/laneshim/client.conf must not change a
    /// figure), the given broker, and extra LANESHIM_* settings.
    /// </summary>
    public static Dictionary<string, string> With(BenchContext context, string? brokerSocket, params (string Key, string Value)[] extra)
    {
        var env = Without(context);
        env["LD_PRELOAD"] = context.Shim;
        env["LANESHIM_AGENT"] = context.Agent;
        env["LANESHIM_BROKER"] = brokerSocket is null ? "unix:" + Path.Combine(context.WorkDirectory, "no-broker.sock") : "unix:" + brokerSocket;
        foreach ((string key, string value) in extra)
        {
            env[key] = value;
        }
        return env;
    }

    /// <summary>No shim; the same private config so both sides differ only in LD_PRELOAD.</summary>
    public static Dictionary<string, string> Without(BenchContext context)
    {
        string config = Path.Combine(context.WorkDirectory, "client.conf");
        if (!File.Exists(config))
        {
            File.WriteAllText(config, "# laneshim-lab bench: no settings\n");
        }
        return new Dictionary<string, string> { ["LANESHIM_CONFIG"] = config };
    }
}
