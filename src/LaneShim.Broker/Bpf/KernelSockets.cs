// KernelSockets.cs - finds a kernel-reported flow's socket among its process's descriptors (pidfd_getfd, matched on the
// 5-tuple) so the broker can set what bpf_setsockopt may not: buffers above net.core.wmem_max/rmem_max.
using System.Globalization;
using LaneShim.Broker.Identity;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Bpf;

/// <summary>The broker's privileged half of a kernel-path lane, applied after the connect report.</summary>
internal static class KernelSockets
{
    /// <summary>
    /// Applies the grant's FORCE buffers, mark and priority on the process's socket for <paramref name="flow"/>; returns
    /// what was applied (<see cref="ProvenSocket"/> bits), 0 when the socket was not found (closed, or handed on).
    /// </summary>
    public static uint ApplyPrivileged(int pid, uint uid, Flow flow, LaneGrant grant, out string note)
    {
        string dir = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd";
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(dir).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            note = $"process {pid} is gone";
            return 0;
        }
        foreach (string entry in entries)
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out int fd) || !IsSocket(entry))
            {
                continue;
            }
            if (!SocketProof.TryProve(pid, uid, fd, flow, out ProvenSocket? socket, out _) || socket is null)
            {
                continue;
            }
            using (socket)
            {
                uint applied = socket.ApplyPrivileged(grant, out List<string> failures);
                note = failures.Count > 0 ? "could not set " + string.Join(", ", failures) : "";
                return applied;
            }
        }
        note = $"no descriptor of process {pid} holds the flow";
        return 0;
    }

    private static bool IsSocket(string entry)
    {
        try
        {
            return new FileInfo(entry).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
