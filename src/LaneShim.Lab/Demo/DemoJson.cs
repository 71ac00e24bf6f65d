// DemoJson.cs - the source-generated serializer for the demo's results.json (snake_case names, like lab.json).
using System.Text.Json.Serialization;

namespace LaneShim.Lab.Demo;

/// <summary>Writes and reads <see cref="DemoResultsFile"/> without reflection; a file missing a field does not parse.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    RespectRequiredConstructorParameters = true, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(DemoResultsFile))]
internal sealed partial class DemoJson : JsonSerializerContext;
