// SiteJson.cs - the install record's JSON, generated at build time (System.Text.Json source generation: no reflection, trimming- and AOT-safe).
using System.Text.Json.Serialization;

namespace LaneShim.Cli.Site;

/// <summary>Reads and writes <see cref="InstallManifest"/> (indented, null properties left out, property names as declared).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InstallManifest))]
internal sealed partial class SiteJson : JsonSerializerContext;
