// FqSupport.cs - whether the kernel can run the fq qdisc at all.
namespace LaneShim.Core.Doctor;

/// <summary>Whether the fq packet scheduler exists in this kernel (from its config or a qdisc in use).</summary>
public enum FqSupport
{
    /// <summary>Neither the kernel config nor the module tree says.</summary>
    Unknown,

    /// <summary>Built in (CONFIG_NET_SCH_FQ=y), or already in use on an interface.</summary>
    BuiltIn,

    /// <summary>A loadable module (CONFIG_NET_SCH_FQ=m).</summary>
    Module,

    /// <summary>Not built (CONFIG_NET_SCH_FQ is not set).</summary>
    Absent,
}
