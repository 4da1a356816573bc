namespace Platform.Server.Security;

/// <summary>The roles an API key can have.</summary>
public static class ApiKeyRoles
{
    /// <summary>May do everything.</summary>
    public const string Admin = "Admin";

    /// <summary>May read (definitions, instances, journal) but not change anything.</summary>
    public const string Operator = "Operator";

    /// <summary>Parses a configured role (case-insensitive); null when it is neither Admin nor Operator.</summary>
    public static string? Parse(string? role) =>
        string.Equals(role, Admin, StringComparison.OrdinalIgnoreCase) ? Admin
        : string.Equals(role, Operator, StringComparison.OrdinalIgnoreCase) ? Operator
        : null;
}

/// <summary>The authorization policies of the API.</summary>
public static class ApiPolicies
{
    /// <summary>Any valid key (Admin or Operator): reading.</summary>
    public const string Read = "platform:read";

    /// <summary>Admin keys only: creating, changing, running, cancelling and deleting.</summary>
    public const string Write = "platform:write";
}
