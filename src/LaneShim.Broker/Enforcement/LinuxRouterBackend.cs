// LinuxRouterBackend.cs - programs Linux routers (network namespaces) with nftables set elements that carry a timeout.
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Enforcement;

/// <summary>
/// Each router runs table <c>inet laneshim</c> with set <c>lanes4</c> (saddr . sport . daddr . dport, flags timeout)
/// and a prerouting rule that marks members with the fwmark its policy routing sends over the lane link
/// (`laneshim lab up` creates both). A rule is one set element with the lease's TTL as its kernel timeout, so
/// the kernel drops it even if the broker dies; release deletes it at once. Each router is programmed with one
/// atomic `nft -f -` batch run inside its namespace; routers are programmed in parallel.
/// </summary>
public sealed class LinuxRouterBackend(ILogger<LinuxRouterBackend> logger) : IEnforcementBackend
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    public string Name => "linux-router";

    public Task InstallAsync(Steering steering, CancellationToken cancellationToken) =>
        ApplyAsync(steering, add: true, cancellationToken);

    public Task RenewAsync(Steering steering, CancellationToken cancellationToken) =>
        ApplyAsync(steering, add: true, cancellationToken);

    public Task RemoveAsync(Steering steering, CancellationToken cancellationToken) =>
        ApplyAsync(steering, add: false, cancellationToken);

    private async Task ApplyAsync(Steering steering, bool add, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        IEnumerable<Task> work = steering.Rules.GroupBy(r => (r.Router, r.Netns)).Select(g => RunBatch(g.Key.Router, g.Key.Netns, Batch(g, add, steering.Ttl + Grace), cancellationToken));
        try
        {
            await Task.WhenAll(work).ConfigureAwait(false);
        }
        catch (EnforcementException) when (add)
        {
            await ApplyAsync(steering, add: false, CancellationToken.None).ConfigureAwait(false); // leave no half-installed lane
            throw;
        }
        logger.LogDebug("{Verb} {Count} rules for lease {Lease} in {Ms:0.0} ms", add ? "installed" : "removed", steering.Rules.Count, steering.LeaseId[..Math.Min(8, steering.LeaseId.Length)], sw.Elapsed.TotalMilliseconds);
    }

    /// <summary>The nft script for one router: delete-then-add refreshes the timeout atomically; delete is made idempotent by adding first.</summary>
    internal static string Batch(IEnumerable<SteeringRule> rules, bool add, TimeSpan ttl)
    {
        var sb = new StringBuilder();
        long seconds = Math.Max(1, (long)Math.Ceiling(ttl.TotalSeconds));
        foreach (SteeringRule r in rules)
        {
            if (r.Source.AddressFamily != AddressFamily.InterNetwork || r.Destination.AddressFamily != AddressFamily.InterNetwork)
            {
                throw new EnforcementException($"{r.Router}: only IPv4 flows can be steered by the Linux-router backend ({r})");
            }
            string element = $"{{ {r.Source} . {r.SourcePort} . {r.Destination} . {r.DestinationPort} }}";
            string timed = $"{{ {r.Source} . {r.SourcePort} . {r.Destination} . {r.DestinationPort} timeout {seconds}s }}";
            // 'add' of an existing element is a no-op, so add-then-delete makes the delete safe to repeat.
            sb.Append("add element inet laneshim lanes4 ").Append(element).Append('\n');
            sb.Append("delete element inet laneshim lanes4 ").Append(element).Append('\n');
            if (add)
            {
                sb.Append("add element inet laneshim lanes4 ").Append(timed).Append('\n');
            }
        }
        return sb.ToString();
    }

    private static async Task RunBatch(string router, string? netns, string script, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(netns is null ? "nft" : "nsenter")
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (netns is not null)
        {
            psi.ArgumentList.Add($"--net=/run/netns/{netns}");
            psi.ArgumentList.Add("nft");
        }
        psi.ArgumentList.Add("-f");
        psi.ArgumentList.Add("-");
        using Process p = Process.Start(psi) ?? throw new EnforcementException($"{router}: cannot start nft");
        await p.StandardInput.WriteAsync(script).ConfigureAwait(false);
        p.StandardInput.Close();
        Task<string> stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        await p.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await p.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (p.ExitCode != 0)
        {
            string why = (await stderr.ConfigureAwait(false)).Trim().Split('\n')[0];
            throw new EnforcementException($"router {router}{(netns is null ? "" : $" (netns {netns})")}: nft failed: {why}");
        }
    }
}
