namespace Platform.Persistence.EFCore;

/// <summary>SQL functions of the platform database, for LINQ queries against <see cref="PlatformDbContext"/>.</summary>
public static class PlatformDbFunctions
{
    /// <summary>SQLite's own name for <see cref="Fold"/> (registered on every connection).</summary>
    public const string SqliteFoldFunction = "platform_fold";

    /// <summary>
    /// Lower-cases text for case-insensitive search, beyond ASCII on both providers: <c>lower()</c> on PostgreSQL,
    /// <c>platform_fold()</c> (.NET <see cref="string.ToLowerInvariant"/>) on SQLite, whose built-in <c>lower()</c> only folds A–Z.
    /// Compare with a term lower-cased by <see cref="string.ToLowerInvariant"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called outside a query.</exception>
    public static string? Fold(string? value) =>
        throw new InvalidOperationException($"{nameof(PlatformDbFunctions)}.{nameof(Fold)} only runs inside a query against the platform database.");
}
