using System.Globalization;
using Hangfire;
using Platform.Activities;

namespace Platform.Server.Security;

/// <summary>The audit trail's registrations: the writer (<see cref="IAuditLog"/>), the middleware and the retention job.</summary>
public static class AuditHostExtensions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Audit";

    /// <summary>The default retention.</summary>
    public const int DefaultRetentionDays = 365;

    /// <summary>
    /// Registers <see cref="AuditLogWriter"/> as <see cref="IAuditLog"/> (needs an <see cref="IAuditLogStore"/>, which the
    /// persistence registers) and the daily <see cref="AuditRetentionJob"/>. Validates <c>Platform:Audit:RetentionDays</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">RetentionDays is not a positive whole number; the message says so.</exception>
    public static IServiceCollection AddPlatformAudit(this IServiceCollection services, IConfiguration configuration)
    {
        RetentionDays(configuration); // fails early with a clear message
        services.AddSingleton<AuditLogWriter>();
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<AuditLogWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<AuditLogWriter>());
        services.AddTransient<AuditRetentionJob>();
        services.AddHostedService<AuditRetentionRegistration>();
        return services;
    }

    /// <summary>Adds the <see cref="AuditMiddleware"/> (call after authentication).</summary>
    public static IApplicationBuilder UsePlatformAudit(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.ApplicationServices.GetService<IAuditLog>() is null ? app : app.UseMiddleware<AuditMiddleware>();
    }

    /// <summary><c>Platform:Audit:RetentionDays</c>, default 365.</summary>
    /// <exception cref="InvalidOperationException">The value is not a positive whole number.</exception>
    public static int RetentionDays(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var text = configuration[SectionName + ":RetentionDays"];
        if (string.IsNullOrWhiteSpace(text)) return DefaultRetentionDays;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var days) && days > 0 ? days
            : throw new InvalidOperationException($"{SectionName}:RetentionDays is '{text}'; use a positive number of days (default {DefaultRetentionDays}).");
    }

    /// <summary>Keeps the daily recurring retention job (UTC, 03:17) registered at start.</summary>
    private sealed class AuditRetentionRegistration(IServiceProvider services, ILogger<AuditRetentionRegistration> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (services.GetService<IRecurringJobManager>() is not { } recurring) return Task.CompletedTask;
            try
            {
                recurring.AddOrUpdate<AuditRetentionJob>(AuditRetentionJob.RecurringJobId, j => j.RunAsync(), "17 3 * * *",
                    new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            }
            catch (Exception e)
            {
                logger.LogError(e, "The audit retention job could not be registered; expired audit entries stay until the next start");
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
