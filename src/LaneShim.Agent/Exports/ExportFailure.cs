// ExportFailure.cs - how an export turns an exception into LANESHIM_E_INTERNAL: logged, never rethrown. Also carries the assembly's DisableRuntimeMarshalling.
using System.Runtime.CompilerServices;
using LaneShim.Agent.Abi;

[assembly: DisableRuntimeMarshalling]

namespace LaneShim.Agent.Exports;

/// <summary>The one place an export's exception ends: no exception crosses <c>[UnmanagedCallersOnly]</c>.</summary>
internal static class ExportFailure
{
    /// <summary>Logs <paramref name="e"/> (if logging itself works) and returns LANESHIM_E_INTERNAL.</summary>
    public static int Code(string where, Exception e)
    {
        try
        {
            AgentLog.Error($"{where}: {e.GetType().Name}: {e.Message}");
        }
        catch
        {
            // logging must not turn a failure into a crash
        }
        return AbiConstants.ErrorInternal;
    }
}
