// LabStateJson.cs - the source-generated serializer for lab.json (snake_case names, like the demo's results.json).
using System.Text.Json.Serialization;

namespace LaneShim.Lab.Lab;

/// <summary>Serializes <see cref="LabState"/> without reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LabState))]
internal sealed partial class LabStateJson : JsonSerializerContext;
