// DoctorJsonContext.cs - the doctor's JSON, generated at build time (System.Text.Json source generation: no reflection, trimming- and AOT-safe).
using System.Text.Json.Serialization;

namespace LaneShim.Cli.Doctor.Json;

/// <summary>camelCase names, indented, nulls written as null (readers see every key).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(DoctorDocument))]
[JsonSerializable(typeof(DoctorRevertDocument))]
internal sealed partial class DoctorJsonContext : JsonSerializerContext;
