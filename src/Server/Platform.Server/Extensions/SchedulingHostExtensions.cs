using System.Net;
using Hangfire;
using Hangfire.Dashboard;
using Platform.Engine.Runtime;
using Platform.Persistence.EFCore;
using Platform.Scheduling.Hangfire;
using Platform.Server.Security;

namespace Platform.Server.Extensions;

/// <summary>
/// The host's part of scheduling: Hangfire on the platform database (PostgreSQL) or in memory (embedded SQLite default; the
/// engine reschedules timers from its own tables at start), and the Hangfire Dashboard at <c>/hangfire</c> behind the API keys.
/// </summary>
public static class SchedulingHostExtensions
{
    /// <summary>Where the dashboard lives.</summary>
    public const string DashboardPath = "/hangfire";

    /// <summary>The HttpOnly cookie that carries the API key for the dashboard (browsers send no Authorization header).</summary>
    public const string DashboardCookie = "platform-hangfire-key";

    private const string RoleItem = "platform:hangfire-role";

    /// <summary>
    /// Registers Hangfire for the configured database. Call after <c>AddPlatformPersistence</c> (it reads the registered
    /// <see cref="PlatformDatabaseSettings"/>). Binds <c>Platform:Scheduling</c> (<see cref="HangfireSchedulingOptions"/>:
    /// <c>WorkerCount</c>, <c>RecoveryInterval</c>, <c>RecoveryGracePeriod</c>); Hangfire's shutdown waits as long as the engine's
    /// (<c>Platform:Engine:ShutdownTimeout</c>, default 30 s).
    /// </summary>
    /// <exception cref="InvalidOperationException">A value is out of range; the message names the key.</exception>
    public static WebApplicationBuilder AddPlatformScheduling(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = builder.Services.LastOrDefault(d => d.ServiceType == typeof(PlatformDatabaseSettings))?.ImplementationInstance as PlatformDatabaseSettings
            ?? throw new InvalidOperationException("AddPlatformScheduling needs the platform database: call AddPlatformPersistence first.");
        var section = builder.Configuration.GetSection(HangfireSchedulingOptions.SectionName);
        var scheduling = section.Get<HangfireSchedulingOptions>() ?? new HangfireSchedulingOptions();
        if (scheduling.WorkerCount < 1)
            throw new InvalidOperationException($"{HangfireSchedulingOptions.SectionName}:WorkerCount is {scheduling.WorkerCount}; use 1 or more (default 4).");
        if (scheduling.RecoveryGracePeriod < TimeSpan.Zero)
            throw new InvalidOperationException($"{HangfireSchedulingOptions.SectionName}:RecoveryGracePeriod must not be negative; use e.g. 00:00:30.");
        var shutdown = builder.Configuration.GetValue<TimeSpan?>($"{EngineRuntimeOptionsValidator.SectionName}:ShutdownTimeout") is { } t && t >= TimeSpan.Zero
            ? t : TimeSpan.FromSeconds(30);
        if (settings.Provider == PlatformDatabaseProvider.PostgreSql)
            builder.Services.AddHangfireScheduling(HangfireStorageKind.PostgreSql, settings.ConnectionString, workerCount: scheduling.WorkerCount, shutdownTimeout: shutdown);
        else
            builder.Services.AddHangfireScheduling(HangfireStorageKind.InMemory, workerCount: scheduling.WorkerCount, shutdownTimeout: shutdown);
        builder.Services.AddOptions<HangfireSchedulingOptions>().Bind(section);
        return builder;
    }

    /// <summary>
    /// Maps the Hangfire Dashboard at <c>/hangfire</c>. Accepts <c>Authorization: ApiKey …</c> or the sign-in cookie
    /// (<c>/hangfire?key=…</c> sets it and redirects). Operator, Designer and Admin keys may act; Viewer keys only read; anyone else gets a 401
    /// with a small sign-in page.
    /// </summary>
    public static WebApplication UsePlatformHangfireDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(c => c.Request.Path.StartsWithSegments(DashboardPath, StringComparison.OrdinalIgnoreCase), branch => branch.Use(async (context, next) =>
        {
            var keys = context.RequestServices.GetRequiredService<ApiKeyStore>();
            var remote = context.Connection.RemoteIpAddress;
            if (context.Request.Query.TryGetValue("key", out var presented) && HttpMethods.IsGet(context.Request.Method))
            {
                var signIn = await keys.CheckAsync(presented, remote, context.RequestAborted);
                if (signIn.Outcome == ApiKeyCheckOutcome.LockedOut)
                {
                    await WriteLockedOutAsync(context, signIn);
                    return;
                }
                if (signIn.Outcome != ApiKeyCheckOutcome.Valid)
                {
                    await WriteSignInAsync(context, signIn.Message ?? "That key is not valid.");
                    return;
                }
                // The cookie holds the key encrypted and signed by ASP.NET Core data protection, never the raw key.
                context.Response.Cookies.Append(DashboardCookie, DashboardCookieProtector.Protect(context, presented.ToString().Trim()), new CookieOptions
                {
                    HttpOnly = true, SameSite = SameSiteMode.Strict, Path = DashboardPath, Secure = context.Request.IsHttps, IsEssential = true,
                });
                context.Response.Redirect(context.Request.PathBase + context.Request.Path);
                return;
            }

            // Every request checks the key again (header first, then the cookie): a revoked or expired key stops working here too.
            var check = await keys.CheckAsync(KeyFromHeader(context), remote, context.RequestAborted);
            if (check.Outcome == ApiKeyCheckOutcome.None)
                check = await keys.CheckAsync(DashboardCookieProtector.Unprotect(context, context.Request.Cookies[DashboardCookie]), remote, context.RequestAborted);
            if (check.Outcome == ApiKeyCheckOutcome.LockedOut)
            {
                await WriteLockedOutAsync(context, check);
                return;
            }
            if (check.Identity is not { } identity)
            {
                await WriteSignInAsync(context, check.Outcome == ApiKeyCheckOutcome.None ? null : check.Message);
                return;
            }
            // The dashboard's actions read a form; any other body made it answer 500 (issue 16, L2).
            if (HttpMethods.IsPost(context.Request.Method) && !context.Request.HasFormContentType)
            {
                context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
                await context.Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
                {
                    Status = StatusCodes.Status415UnsupportedMediaType, Title = "The dashboard accepts forms only.",
                    Detail = "Send the request with 'Content-Type: application/x-www-form-urlencoded' (as the dashboard's own pages do).",
                }, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
                return;
            }
            context.Items[RoleItem] = identity.Role;
            await next(context);
        }));

        app.UseHangfireDashboard(DashboardPath, new DashboardOptions
        {
            Authorization = [new RoleAuthorizationFilter()],
            // Triggering, requeueing and deleting jobs is operating: Operator and up; Viewers only look.
            IsReadOnlyFunc = c => !ApiKeyRoles.Includes(c.GetHttpContext().Items[RoleItem] as string, ApiKeyRoles.Operator),
            AppPath = "/",
            DisplayStorageConnectionString = false,
        });
        return app;
    }

    private static string? KeyFromHeader(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string prefix = ApiKeyAuthenticationHandler.SchemeName + " ";
        return header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? header[prefix.Length..] : null;
    }

    private static async Task WriteSignInAsync(HttpContext context, string? error)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var message = error is null ? "" : $"<p role=\"alert\">{WebUtility.HtmlEncode(error)}</p>";
        await context.Response.WriteAsync($"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in – Jobs</title></head>
            <body><h1>Background jobs</h1>{message}
            <form method="get" action="{WebUtility.HtmlEncode(context.Request.PathBase + DashboardPath)}">
            <label>API key <input type="password" name="key" autocomplete="off" required></label>
            <button type="submit">Sign in</button></form>
            <p>Operator, Designer and Admin keys may trigger and delete jobs; Viewer keys may only look.</p></body></html>
            """);
    }

    private static async Task WriteLockedOutAsync(HttpContext context, ApiKeyCheck check)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling((check.RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await context.Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests, Title = check.Message,
            Detail = $"This address is locked out for {seconds} s after too many invalid API keys. Check the key; the lockout is configured under {KeyLockoutOptions.SectionName}.",
        }, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
    }

    /// <summary>Lets in whoever the sign-in middleware recognised (any role).</summary>
    private sealed class RoleAuthorizationFilter : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().Items[RoleItem] is string;
    }
}
