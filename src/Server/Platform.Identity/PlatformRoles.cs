namespace Platform.Identity;

/// <summary>
/// The roles of users and keys. A principal carries its role as a <see cref="System.Security.Claims.ClaimTypes.Role"/> claim
/// with one of these values.
/// </summary>
public static class PlatformRoles
{
    /// <summary>May do everything, including managing users and keys.</summary>
    public const string Admin = "Admin";

    /// <summary>Workflows, intents and packs in test.</summary>
    public const string Designer = "Designer";

    /// <summary>Runs, retries, cancels, handles dead letters; reads everything.</summary>
    public const string Operator = "Operator";

    /// <summary>Reads only.</summary>
    public const string Viewer = "Viewer";

    /// <summary>Every role, from most to least rights.</summary>
    public static readonly IReadOnlyList<string> All = [Admin, Designer, Operator, Viewer];

    /// <summary>The canonical spelling of a role (case-insensitive), or null when it is none of <see cref="All"/>.</summary>
    public static string? Parse(string? role) =>
        All.FirstOrDefault(r => string.Equals(r, role?.Trim(), StringComparison.OrdinalIgnoreCase));
}
