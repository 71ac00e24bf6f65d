// AuditTimeConverter.cs - an audit line's time: UTC to the millisecond, "2026-11-22T08:09:23.633Z".
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LaneShim.Broker.Audit;

/// <summary>Writes (and reads) <see cref="AuditRecord.Time"/> as UTC with milliseconds and a Z, as log tools expect.</summary>
public sealed class AuditTimeConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy-MM-ddTHH:mm:ss.fffZ";

    /// <inheritdoc/>
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.ParseExact(reader.GetString() ?? "", Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
    }
}
