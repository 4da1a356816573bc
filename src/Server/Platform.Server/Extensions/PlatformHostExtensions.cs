using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Engine.Contracts;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Messaging;
using Platform.Packs;
using Platform.Persistence.EFCore;
using Platform.Server.Apis;
using Platform.Server.Infrastructure;
using Platform.Server.Security;
using Platform.Studio;

namespace Platform.Server.Extensions;

/// <summary>The host's composition: engine, persistence, Studio, API key auth, ProblemDetails and CORS.</summary>
public static class PlatformHostExtensions
{
    /// <summary>The CORS policy used when <c>Platform:Cors:AllowedOrigins</c> is set.</summary>
    public const string CorsPolicy = "platform-api";

    /// <summary>
    /// Registers everything the server needs. Reads <c>Platform:DataDirectory</c> (created if missing),
    /// <c>Platform:Database:Provider</c>, <c>ConnectionStrings:Platform</c>, <c>Platform:ApiKeys</c>,
    /// <c>Platform:Cors:AllowedOrigins</c> and <c>Platform:Api:MaxRequestBodySize</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The configuration is not valid; the message says how to fix it.</exception>
    public static WebApplicationBuilder AddPlatform(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddOptions<PlatformOptions>().Bind(configuration.GetSection(PlatformOptions.SectionName));
        var options = configuration.GetSection(PlatformOptions.SectionName).Get<PlatformOptions>() ?? new PlatformOptions();
        ProviderName(options.Database.Provider); // fails early with a clear message
        var dataDirectory = ResolveDataDirectory(options.DataDirectory, builder.Environment.ContentRootPath);
        builder.AddPlatformSecurity(dataDirectory); // data file modes (issue 16; Security/SecurityHostExtensions.cs)
        services.AddPlatformRateLimits(configuration); // Platform:RateLimits (issue 16, M1)
        services.AddPlatformNetwork(configuration); // Platform:Network allow lists, forwarded headers; Platform:Sockets caps (Security/NetworkPolicy.cs)

        // Persistence first: whether it registers its stores with Add or TryAdd, they win over the engine's in-memory defaults.
        services.AddPlatformPersistence(configuration, dataDirectory);
        services.AddPlatformAudit(configuration); // audit_log writer and retention (Platform:Audit; Security/AuditHostExtensions.cs)
        services.AddWorkflowEngine(engine => engine.AddActivitiesFrom<CorePack>().AddActivitiesFrom<Platform.Activities.Data.DataPack>()
            .AddActivitiesFrom<Platform.Activities.AI.AiPack>().AddActivitiesFrom<Platform.Activities.Messaging.MessagingPack>());
        services.AddPlatformEngineOptions(configuration); // Platform:Engine: default retry policy, shutdown timeout
        services.AddPlatformData(configuration, dataDirectory);
        services.AddPlatformMessaging(configuration); // channels, durable inbox and outbox
        services.AddPlatformAttachments(configuration, dataDirectory); // attachment files (Platform:Attachments, docs/channels.md)
        services.AddHostedService<Demo.DemoSeeder>(); // Platform:Demo:Enabled: demo shop database and the seed workflows
        services.AddPlatformAi(configuration, dataDirectory); // intent sets, RecognizeIntent.<set> types, AskModel
        services.AddPlatformAgent(configuration); // named model endpoints, AI Agent tools and choices
        services.AddPlatformKnowledge(configuration); // knowledge bases, /api/knowledge, IKnowledgeSearch for Retrieve
        builder.AddPlatformScheduling(); // Hangfire: PostgreSQL storage on PostgreSql, in memory on the embedded default
        services.AddStudio(configuration);
        services.AddPlatformDevices(configuration, dataDirectory); // MQTT (embedded broker by default), device registry, ControlDevice/GetDeviceState
        // Activity packs installed at run time (docs/packs.md): /api/packs, the <data directory>/packs drop folder, Platform:Packs:Sources.
        var refresh = ConfigurationDocumentsHostExtensions.RefreshInterval(configuration);
        services.AddPlatformPacks(o =>
        {
            configuration.GetSection(Platform.Packs.PackOptions.SectionName).Bind(o);
            o.DropFolder = string.IsNullOrWhiteSpace(o.DropFolder) ? Path.Combine(dataDirectory, "packs") : Path.GetFullPath(o.DropFolder, dataDirectory);
            Directory.CreateDirectory(o.DropFolder);
            o.RefreshInterval = refresh;
        });
        services.AddPackAccess(); // what pack activities reach through their context (limited per pack.json by the packs module)

        // Errors: ProblemDetails everywhere, bad input is a 4xx with a detail that says how to fix it.
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        var maxBody = options.Api.MaxRequestBodySize > 0 ? options.Api.MaxRequestBodySize : ApiOptions.DefaultMaxRequestBodySize;
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = maxBody);

        // Auth: API clients send "Authorization: ApiKey <key>" with a role the route's policy allows (Security/ApiKeyHostExtensions.cs);
        // browsers sign in with a cookie (users, single sign-on, the first-start link). The selector sends
        // "Authorization: ApiKey" to the key handler and everything else to the cookie (Security/SignInHostExtensions.cs).
        services.AddPlatformApiKeys(configuration, options.ApiKeys, dataDirectory)
            .AddPlatformSignIn(builder, dataDirectory);
        services.AddAuthentication(SignInSchemes.Selector);

        // CORS: same origin by default (the Studio is served by this host).
        var origins = options.Cors.AllowedOrigins.Where(o => !string.IsNullOrWhiteSpace(o)).Select(o => o.Trim().TrimEnd('/')).ToArray();
        if (origins.Length > 0)
        {
            services.AddCors(c => c.AddPolicy(CorsPolicy, p => p.WithOrigins(origins).AllowAnyHeader().AllowAnyMethod()
                .WithExposedHeaders(ApiRouting.InstanceIdHeader)));
        }
        return builder;
    }

    /// <summary>The middleware: exception handling, ProblemDetails for empty error responses, API guards, CORS and auth.</summary>
    public static WebApplication UsePlatform(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UsePlatformSecurityHeaders(); // nosniff, referrer policy, CSP frame-ancestors (issue 16, L5)
        app.UsePlatformNetwork(); // forwarded headers from known proxies, allow lists (403), web chat socket caps (429)
        if (!app.Environment.IsDevelopment()) app.UseHsts(); // only on HTTPS requests
        app.UsePlatformTls(); // with Platform:Tls: plain HTTP redirected to HTTPS (probes and /metrics excepted)
        app.UseExceptionHandler();
        app.UseStatusCodePages(StatusCodeProblems.WriteAsync);
        app.UseMiddleware<ApiRequestGuard>();
        app.UseRouting();
        if (app.Services.GetService<Microsoft.AspNetCore.Cors.Infrastructure.ICorsService>() is not null) app.UseCors(CorsPolicy);
        app.UseAuthentication();
        app.UsePlatformSignInProtection(); // cookie requests that change something must come from our own pages
        app.UsePlatformAudit(); // writes, exports and refused keys of /api, /elsa/api, /hangfire (after authentication: knows who)
        app.UsePlatformRateLimits(); // after authentication: the API is limited per key
        app.UseAuthorization();
        app.UsePlatformHangfireDashboard();
        return app;
    }

    /// <summary>The canonical provider name (<c>Sqlite</c> or <c>PostgreSql</c>).</summary>
    /// <exception cref="InvalidOperationException">The provider is neither.</exception>
    public static string ProviderName(string? provider) => provider?.Trim().ToLowerInvariant() switch
    {
        null or "" or "sqlite" => "Sqlite",
        "postgresql" or "postgres" or "npgsql" => "PostgreSql",
        _ => throw new InvalidOperationException(
            $"Platform:Database:Provider is '{provider}', which is not supported. Use Sqlite (default) or PostgreSql."),
    };

    /// <summary>Resolves the data directory against the content root and creates it.</summary>
    public static string ResolveDataDirectory(string? configured, string contentRoot)
    {
        var path = string.IsNullOrWhiteSpace(configured) ? PlatformOptions.DefaultDataDirectory : configured.Trim();
        path = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(contentRoot, path));
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"The data directory '{path}' cannot be created ({e.Message}). Set Platform:DataDirectory to a writable folder.", e);
        }
        return path;
    }
}
