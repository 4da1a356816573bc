using System.Data.Common;

namespace Platform.Activities.Data;

/// <summary>Save-time checks and display helpers for SQL and connection strings.</summary>
public static class SqlSafety
{
    /// <summary>
    /// Why a <see cref="QueryDatabase"/> may not be saved, or null when its SQL is a plain literal. SQL written as JavaScript
    /// or Liquid, or containing <c>{{</c> or <c>${</c>, would paste values (such as message text) into the SQL.
    /// </summary>
    public static string? Check(QueryDatabase activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var expression = activity.Sql.Expression;
        var label = string.IsNullOrEmpty(activity.Name) ? activity.Id : activity.Name;
        if (!string.Equals(expression.Type, ExpressionTypes.Literal, StringComparison.OrdinalIgnoreCase))
            return $"QueryDatabase '{label}': the SQL is a {expression.Type} expression, which pastes values into the SQL (SQL injection). " +
                   "Write the SQL as literal text with @name placeholders and bind the values in Parameters, e.g. SQL \"… WHERE customer = @customer\" " +
                   "and Parameters {\"customer\": …}.";
        var text = expression.ValueAsString() ?? "";
        if (text.Contains("{{", StringComparison.Ordinal) || text.Contains("${", StringComparison.Ordinal))
            return $"QueryDatabase '{label}': the SQL contains a template placeholder ('{{{{' or '${{'), which would paste values into the SQL (SQL injection). " +
                   "Use @name placeholders and bind the values in Parameters instead.";
        return null;
    }

    private static readonly string[] SecretKeys = ["password", "pwd", "secret", "token", "key", "accesstoken", "access token"];

    /// <summary>The connection string with passwords and other secrets replaced by <c>*****</c>.</summary>
    public static string Mask(string connectionString)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            foreach (var key in builder.Keys.Cast<string>().ToList())
            {
                var k = key.ToLowerInvariant();
                if (SecretKeys.Any(s => k == s || k.Contains("password", StringComparison.Ordinal) || k.EndsWith(" " + s, StringComparison.Ordinal)))
                    builder[key] = "*****";
            }
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "*****"; // unparsable: show nothing of it
        }
    }
}
