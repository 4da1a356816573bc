using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Platform.Persistence.EFCore.Configuration;

/// <summary>Model-building helpers for entity configurations of the platform database.</summary>
public static class ModelBuilderExtensions
{
    internal const string JsonAnnotation = "Platform:Json";

    /// <summary>Marks a string property as JSON text: <c>json</c> on PostgreSQL (kept exactly as written), <c>TEXT</c> on SQLite.</summary>
    public static PropertyBuilder<TProperty> IsJsonText<TProperty>(this PropertyBuilder<TProperty> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Metadata.ClrType != typeof(string)) throw new ArgumentException($"Only string properties hold JSON text; '{builder.Metadata.Name}' is {builder.Metadata.ClrType.Name}.");
        return builder.HasAnnotation(JsonAnnotation, true);
    }
}

/// <summary>Applied after all entity configurations: snake_case names and provider column types.</summary>
internal static class PlatformModelConventions
{
    public static void Apply(ModelBuilder modelBuilder, PlatformDatabaseProvider provider)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            if (entity.GetTableName() is { } table) entity.SetTableName(ToSnakeCase(table));
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(ToSnakeCase(property.GetColumnName()));
                if (property.FindAnnotation(ModelBuilderExtensions.JsonAnnotation) is not null)
                {
                    property.RemoveAnnotation(ModelBuilderExtensions.JsonAnnotation);
                    if (provider == PlatformDatabaseProvider.PostgreSql) property.SetColumnType("json");
                }
            }
        }

        // Constraint and index names follow the (now snake_case) columns; lower-case the EF prefixes too.
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var key in entity.GetKeys()) if (key.GetName() is { } name) key.SetName(name.ToLowerInvariant());
            foreach (var fk in entity.GetForeignKeys()) if (fk.GetConstraintName() is { } name) fk.SetConstraintName(name.ToLowerInvariant());
            foreach (var index in entity.GetIndexes()) if (index.GetDatabaseName() is { } name) index.SetDatabaseName(name.ToLowerInvariant());
        }
    }

    /// <summary>WorkflowInstanceId → workflow_instance_id; already snake_case names are unchanged.</summary>
    internal static string ToSnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previous = i > 0 ? name[i - 1] : '\0';
                var next = i + 1 < name.Length ? name[i + 1] : '\0';
                if (i > 0 && previous != '_' && (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && char.IsLower(next))))
                    sb.Append('_');
                sb.Append(char.ToLower(c, CultureInfo.InvariantCulture));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}

/// <summary>
/// SQLite stores <see cref="DateTimeOffset"/> as fixed-width ISO-8601 text in UTC (<c>2025-01-31T08:00:00.1234567+00:00</c>):
/// readable, exact to the tick, and ordered correctly by plain text comparison (EF cannot compare or sort SQLite's default format).
/// </summary>
internal sealed class SqliteDateTimeOffsetConverter() : ValueConverter<DateTimeOffset, string>(
    v => v.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
    v => DateTimeOffset.Parse(v, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));

/// <summary>PostgreSQL <c>timestamptz</c> only takes UTC values from Npgsql: normalise on the way in.</summary>
internal sealed class UtcDateTimeOffsetConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(
    v => v.ToUniversalTime(),
    v => v);
