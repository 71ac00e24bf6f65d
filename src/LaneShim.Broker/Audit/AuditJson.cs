// AuditJson.cs - the audit log's JSON, generated at build time (System.Text.Json source generation: no reflection).
using System.Text.Json.Serialization;

namespace LaneShim.Broker.Audit;

/// <summary>Serializes <see cref="AuditRecord"/> as one compact line; null properties are left out.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditRecord))]
public sealed partial class AuditJson : JsonSerializerContext;
