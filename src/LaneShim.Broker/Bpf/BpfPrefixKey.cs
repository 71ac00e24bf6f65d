// BpfPrefixKey.cs - struct laneshim_bpf_prefix_key: an IPv6 prefix (IPv4 mapped) of the destination LPM trie.
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Bpf;

/// <summary>The LPM trie's key.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct BpfPrefixKey
{
    /// <summary>Bits of <see cref="Address"/> that count.</summary>
    public uint PrefixLength;

    /// <summary>The address, IPv4 as ::ffff:a.b.c.d.</summary>
    public fixed byte Address[16];
}
