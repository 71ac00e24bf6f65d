// EmulatorJson.cs - the source-generated reader of laneshim-linkemu's stats file (snake_case names).
using System.Text.Json.Serialization;

namespace LaneShim.Lab.Lab;

/// <summary>Reads <see cref="EmulatorStatsFile"/> without reflection; a file missing a field does not parse.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, RespectRequiredConstructorParameters = true, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(EmulatorStatsFile))]
internal sealed partial class EmulatorJson : JsonSerializerContext;
