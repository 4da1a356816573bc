namespace Platform.Server.Extensions;

/// <summary>The host's settings, bound from the <c>Platform</c> configuration section.</summary>
public sealed class PlatformOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform";

    /// <summary>The default data directory, relative to the content root.</summary>
    public const string DefaultDataDirectory = "App_Data";

    /// <summary>Where the server keeps its files; relative paths are resolved against the content root.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>The database settings.</summary>
    public DatabaseOptions Database { get; set; } = new();

    /// <summary>The configured API keys. Empty: an admin key is generated on first start.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>Cross-origin settings.</summary>
    public CorsOptions Cors { get; set; } = new();

    /// <summary>API limits.</summary>
    public ApiOptions Api { get; set; } = new();
}

/// <summary><c>Platform:Database</c>.</summary>
public sealed class DatabaseOptions
{
    /// <summary><c>Sqlite</c> (default) or <c>PostgreSql</c>.</summary>
    public string Provider { get; set; } = "Sqlite";
}

/// <summary>One entry of <c>Platform:ApiKeys</c>.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The secret the client sends as <c>Authorization: ApiKey &lt;key&gt;</c>; at least 16 characters.</summary>
    public string? Key { get; set; }

    /// <summary>A name for logs and audit (the key itself is never logged).</summary>
    public string? Name { get; set; }

    /// <summary><c>Viewer</c> (default), <c>Operator</c>, <c>Designer</c> or <c>Admin</c>; a configured <c>Operator</c> stays read-only
    /// (<c>Viewer</c>) unless <c>Platform:Security:ReadOnlyOperatorKeys=false</c> (docs/security.md).</summary>
    public string? Role { get; set; }
}

/// <summary><c>Platform:Cors</c>.</summary>
public sealed class CorsOptions
{
    /// <summary>Browser origins allowed to call the API. Empty: same origin only.</summary>
    public string[] AllowedOrigins { get; set; } = [];
}

/// <summary><c>Platform:Api</c>.</summary>
public sealed class ApiOptions
{
    /// <summary>The default body limit: 10 MB.</summary>
    public const long DefaultMaxRequestBodySize = 10 * 1024 * 1024;

    /// <summary>The largest request body the API accepts, in bytes.</summary>
    public long MaxRequestBodySize { get; set; } = DefaultMaxRequestBodySize;
}
