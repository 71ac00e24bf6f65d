// InstallManifestJson.cs - the install record's JSON contract, generated at compile time so the NativeAOT CLI needs no reflection.
using System.Text.Json.Serialization;

namespace LaneShim.Cli.Site;

/// <summary>System.Text.Json source generation for <see cref="InstallManifest"/> (indented, nulls left out).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InstallManifest))]
internal sealed partial class InstallManifestJson : JsonSerializerContext;
