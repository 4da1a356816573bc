using Platform.Activities.Security;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Activities.Data;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Flowchart;

namespace Platform.Server.Extensions;

/// <summary>The database pack's services: the data source store, the providers, the SQL validator and Liquid rendering.</summary>
public static class DataHostExtensions
{
    /// <summary>The configuration key of the secrets key (base64 of 32 bytes).</summary>
    public const string SecretsKeySetting = "Platform:Secrets:Key";

    /// <summary>The file the generated secrets key is kept in, inside the data directory.</summary>
    public const string SecretsKeyFile = "secrets.key";

    /// <summary>
    /// Registers data sources (in the platform database when <c>AddPlatformPersistence</c> came first, importing
    /// <c>{dataDirectory}/data-sources.json</c> once; else in that file; connection strings encrypted with AES-256-GCM under
    /// <c>Platform:Secrets:Key</c>, or a key generated into <c>{dataDirectory}/secrets.key</c>), the four providers,
    /// the validator that rejects interpolated SQL, and the Liquid renderer of <see cref="FormatResult"/>.
    /// Add <c>AddActivitiesFrom&lt;DataPack&gt;()</c> to the engine as well.
    /// </summary>
    public static IServiceCollection AddPlatformData(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(sp => CreateSecretProtector(configuration, dataDirectory,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Platform.Server.Secrets")));
        var file = Path.Combine(dataDirectory, "data-sources.json");
        if (services.HasConfigurationDocuments() && !services.Any(d => d.ServiceType == typeof(IDataSourceStore)))
        {
            // Shared by all nodes through the platform database (all nodes need the same secrets key); the old file is imported once.
            var interval = ConfigurationDocumentsHostExtensions.RefreshInterval(configuration);
            services.AddSingleton<IDataSourceStore>(sp => new DocumentDataSourceStore(sp.GetRequiredService<Platform.Activities.IConfigurationDocuments>(),
                sp.GetRequiredService<SecretProtector>(), interval, sp.GetRequiredService<ILoggerFactory>().CreateLogger<DocumentDataSourceStore>()));
            services.AddConfigurationFileImport(DocumentDataSourceStore.Kind, file, async (sp, ct) =>
            {
                var store = sp.GetRequiredService<IDataSourceStore>();
                var sources = await new JsonFileDataSourceStore(file, sp.GetRequiredService<SecretProtector>()).ListAsync(ct);
                foreach (var source in sources) await store.SaveAsync(source, ct);
                return sources.Select(s => s.Name).ToList();
            });
        }
        services.TryAddSingleton<IDataSourceStore>(sp => new JsonFileDataSourceStore(file, sp.GetRequiredService<SecretProtector>()));
        foreach (var provider in DataSourceProviders.Defaults())
            services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IDataSourceProvider), provider));
        services.TryAddSingleton<DataSourceProviders>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Platform.Activities.IAgentTool, QueryDatabaseTool>()); // the AI agent's read-only query tool
        services.TryAddSingleton<ITemplateRenderer, EngineLiquidRenderer>();
        return services;
    }

    /// <summary>
    /// The protector of <c>Platform:Secrets</c>: the key of id <c>default</c> (<c>Platform:Secrets:Key</c>, or the one in
    /// <c>secrets.key</c>, or, when no key at all is configured, a new one written there), the keys
    /// <c>Platform:Secrets:Keys:&lt;id&gt;</c> and <c>Platform:Secrets:ActiveKeyId</c> (docs/security.md, "Secrets and key rotation").
    /// </summary>
    /// <exception cref="SecretKeyException">A key or the active key id is malformed; the message says how to fix it.</exception>
    public static SecretProtector CreateSecretProtector(IConfiguration configuration, string dataDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new SecretProtectionOptions();
        configuration.GetSection(SecretProtectionOptions.SectionName).Bind(options);
        byte[]? defaultKey = null;
        if (string.IsNullOrWhiteSpace(options.Key))
        {
            var named = options.Keys.Any(p => !string.IsNullOrWhiteSpace(p.Value));
            // With named keys, an existing secrets.key still reads the values written under it; none is generated.
            if (!named || File.Exists(Path.Combine(dataDirectory, SecretsKeyFile))) defaultKey = LoadSecretsKey(null, dataDirectory, logger);
        }
        return SecretProtector.FromOptions(options, defaultKey);
    }

    /// <summary>
    /// The configured key, or the one in <c>secrets.key</c>, or a new one written there (mode 0600). A configured key that is
    /// not base64 of 32 bytes fails with a message that says how to make one.
    /// </summary>
    public static byte[] LoadSecretsKey(string? configured, string dataDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (!string.IsNullOrWhiteSpace(configured)) return Decode(configured.Trim(), SecretsKeySetting);
        var path = Path.Combine(dataDirectory, SecretsKeyFile);
        if (File.Exists(path)) return Decode(File.ReadAllText(path).Trim(), path);
        var key = RandomNumberGenerator.GetBytes(32);
        Directory.CreateDirectory(dataDirectory);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(path, options)) writer.Write(Convert.ToBase64String(key));
        logger.LogWarning("No {Setting} is configured: generated a secrets key into {Path} (mode 0600). Back it up: data source " +
            "connection strings cannot be decrypted without it.", SecretsKeySetting, path);
        return key;
    }

    private static byte[] Decode(string text, string where)
    {
        try
        {
            var key = Convert.FromBase64String(text);
            if (key.Length == 32) return key;
        }
        catch (FormatException) { }
        throw new InvalidOperationException($"The secrets key in {where} must be base64 of 32 random bytes (AES-256), e.g. the output of 'openssl rand -base64 32'.");
    }
}

/// <summary>Renders FormatResult templates with the engine's Liquid (DotLiquid).</summary>
public sealed class EngineLiquidRenderer(LiquidEvaluator liquid) : ITemplateRenderer
{
    /// <inheritdoc />
    public ValueTask<string> RenderAsync(string template, IReadOnlyDictionary<string, object?> model) => liquid.RenderAsync(template, model);
}
