namespace Platform.Server.Security;

/// <summary>The host's security registrations that are not authentication (docs/security.md).</summary>
public static class SecurityHostExtensions
{
    /// <summary>
    /// Restricts the data directory (<see cref="DataFilePermissions"/>, unless <c>Platform:Security:RestrictFileModes=false</c>)
    /// and configures HSTS (one year, used on HTTPS requests only).
    /// </summary>
    public static WebApplicationBuilder AddPlatformSecurity(this WebApplicationBuilder builder, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        if (!bool.TryParse(configuration["Platform:Security:RestrictFileModes"], out var restrict) || restrict)
        {
            var sqlite = Extensions.PlatformHostExtensions.ProviderName(configuration["Platform:Database:Provider"]) == "Sqlite"
                         && string.IsNullOrWhiteSpace(configuration.GetConnectionString("Platform"));
            DataFilePermissions.Restrict(dataDirectory, sqlite ? Path.Combine(dataDirectory, "platform.db") : null);
        }
        builder.AddPlatformTls(); // Platform:Tls: HTTPS from PEM/PFX with reload (TlsHostExtensions.cs)
        builder.Services.AddHsts(o =>
        {
            o.MaxAge = TimeSpan.FromDays(365);
            o.IncludeSubDomains = false;
        });
        return builder;
    }
}
