namespace Platform.Server.Security;

/// <summary>
/// The roles of a principal (an API key, and later a signed-in user): <c>ClaimTypes.Role</c> claims with one of these values.
/// They are ordered: each role may do everything the roles before it may (Viewer &lt; Operator &lt; Designer &lt; Admin).
/// </summary>
public static class ApiKeyRoles
{
    /// <summary>May do everything: API keys, pack installation, channels and data sources (which hold secrets), and all below.</summary>
    public const string Admin = "Admin";

    /// <summary>May change workflows, intent sets, devices and templates, test data sources, and everything an Operator may.</summary>
    public const string Designer = "Designer";

    /// <summary>May run, retry, cancel, resume and delete workflow instances, retry dead letters, send device commands, use the
    /// test console and the intent test, and read everything.</summary>
    public const string Operator = "Operator";

    /// <summary>May only read.</summary>
    public const string Viewer = "Viewer";

    /// <summary>The roles from the least to the most privileged.</summary>
    public static IReadOnlyList<string> All { get; } = [Viewer, Operator, Designer, Admin];

    /// <summary>Parses a role (case-insensitive); null when it is none of <see cref="All"/>.</summary>
    public static string? Parse(string? role) =>
        All.FirstOrDefault(r => string.Equals(r, role?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The roles that include <paramref name="minimum"/> (it and every more privileged role).</summary>
    public static string[] AtLeast(string minimum)
    {
        var index = All.ToList().IndexOf(minimum);
        if (index < 0) throw new ArgumentException($"'{minimum}' is not a role; use one of {string.Join(", ", All)}.", nameof(minimum));
        return All.Skip(index).ToArray();
    }

    /// <summary>True when <paramref name="role"/> includes <paramref name="minimum"/>.</summary>
    public static bool Includes(string? role, string minimum) => role is not null && AtLeast(minimum).Contains(role, StringComparer.Ordinal);
}

/// <summary>The authorization policies of the API, one per capability (docs/security.md has the table of routes).</summary>
public static class ApiPolicies
{
    /// <summary>Any role (Viewer and up): reading.</summary>
    public const string Read = "platform:read";

    /// <summary>Operator and up: running, retrying, cancelling, resuming and deleting instances, dead letters, device commands,
    /// the test console and the intent test.</summary>
    public const string Operate = "platform:operate";

    /// <summary>Designer and up: workflows, intent sets, devices, templates.</summary>
    public const string Design = "platform:design";

    /// <summary>Admin only: API keys, packs, channels and data sources (secrets).</summary>
    public const string Admin = "platform:admin";

    /// <summary>The policy of the first round (Admin only). Kept so that older route code compiles; use <see cref="Operate"/>,
    /// <see cref="Design"/> or <see cref="Admin"/> instead.</summary>
    public const string Write = Admin;

    /// <summary>The minimum role of each policy.</summary>
    public static IReadOnlyDictionary<string, string> MinimumRole { get; } = new Dictionary<string, string>
    {
        [Read] = ApiKeyRoles.Viewer, [Operate] = ApiKeyRoles.Operator, [Design] = ApiKeyRoles.Designer, [Admin] = ApiKeyRoles.Admin,
    };
}
