using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Platform.Activities.Security;
using Platform.Channels;
using Platform.Persistence.EFCore;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Messaging;

/// <summary>Where a channel's configuration comes from.</summary>
public enum ChannelSource
{
    /// <summary>Created through <c>/api/channels</c>; stored in the platform database.</summary>
    Api,
    /// <summary>From appsettings (<c>Platform:Channels:{name}</c>); read-only through the API.</summary>
    Configuration,
}

/// <summary>
/// A configured channel. <see cref="Settings"/> hold the kind's options in plain text in memory (for example
/// <c>botToken</c>, <c>signingSecret</c>, <c>fallbackText</c>); secrets are encrypted at rest and never returned by the API.
/// </summary>
public sealed record ChannelConfig
{
    public required string Name { get; init; }
    public required ChannelKind Kind { get; init; }
    public bool Enabled { get; init; } = true;
    public JsonObject Settings { get; init; } = new();
    public ChannelSource Source { get; init; } = ChannelSource.Api;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Setting names that are secrets: encrypted at rest, write-only through the API.</summary>
    public static readonly IReadOnlySet<string> SecretSettings = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "botToken", "signingSecret", "webhookSecretToken", "authToken", "secret", "previousSecret", "password", "apiKey",
        "accessToken", "appSecret", "verifyToken",
        "corpSecret", "token", "encodingAesKey", "encryptKey", "verificationToken",
    };

    /// <summary>A string setting, or null.</summary>
    public string? Get(string name) => Settings.TryGetPropertyValue(name, out var v) && v is JsonValue value && value.TryGetValue<string>(out var s) ? s
        : Settings.TryGetPropertyValue(name, out v) && v is not null ? v.ToJsonString().Trim('"') : null;

    /// <summary>A string setting that must be there.</summary>
    /// <exception cref="ChannelConfigurationException">It is missing.</exception>
    public string Require(string name) => Get(name) is { Length: > 0 } s ? s
        : throw new ChannelConfigurationException($"Channel '{Name}' ({Kind}) needs the setting '{name}'. Set it with PUT /api/channels/{Name} or in Platform:Channels:{Name}:{name}.");

    /// <summary>The text sent when no workflow takes a message.</summary>
    public string FallbackText => Get("fallbackText") ?? "Sorry, I can't help with that yet.";
}

/// <summary>A channel is configured wrongly; the message says what to set.</summary>
public sealed class ChannelConfigurationException(string message) : InvalidOperationException(message);

/// <summary>Configured channels.</summary>
public interface IChannelStore
{
    Task<IReadOnlyList<ChannelConfig>> ListAsync(CancellationToken ct = default);
    Task<ChannelConfig?> FindAsync(string name, CancellationToken ct = default);
    /// <summary>Creates or replaces an API channel. Secret settings left out keep their stored value.</summary>
    Task<ChannelConfig> SaveAsync(ChannelConfig channel, CancellationToken ct = default);
    Task<bool> DeleteAsync(string name, CancellationToken ct = default);
    /// <summary>Raised after a save or delete (adapters are rebuilt).</summary>
    event Action<string>? Changed;
}

/// <summary>
/// Channels from appsettings (<c>Platform:Channels:{name}:kind</c> plus settings) and from the <c>channels</c> table, secrets
/// encrypted with the platform's <see cref="SecretProtector"/>. A database channel with the same name as a configured one wins.
/// </summary>
public sealed class EfChannelStore : IChannelStore
{
    private readonly IDbContextFactory<PlatformDbContext> _factory;
    private readonly PlatformWriteGate _gate;
    private readonly SecretProtector _protector;
    private readonly TimeProvider _clock;
    private readonly IReadOnlyList<ChannelConfig> _configured;

    public EfChannelStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate, SecretProtector protector, TimeProvider clock, IConfiguration configuration)
    {
        _factory = factory;
        _gate = gate;
        _protector = protector;
        _clock = clock;
        _configured = ReadConfiguration(configuration.GetSection("Platform:Channels"));
    }

    public event Action<string>? Changed;

    /// <summary>Channel names: letters, digits, '-' and '_', 1–64 characters (they appear in URLs).</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public async Task<IReadOnlyList<ChannelConfig>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await _factory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var rows = await db.Set<ChannelEntity>().AsNoTracking().OrderBy(c => c.Name).ToListAsync(ct).ConfigureAwait(false);
        var stored = rows.Select(ToModel).ToList();
        var names = stored.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return [.. stored.Concat(_configured.Where(c => !names.Contains(c.Name))).OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    public async Task<ChannelConfig?> FindAsync(string name, CancellationToken ct = default)
    {
        await using var db = await _factory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var row = await db.Set<ChannelEntity>().AsNoTracking().FirstOrDefaultAsync(c => c.Name == name, ct).ConfigureAwait(false);
        return row is not null ? ToModel(row) : _configured.FirstOrDefault(c => c.Name == name);
    }

    public async Task<ChannelConfig> SaveAsync(ChannelConfig channel, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var now = _clock.GetUtcNow();
        ChannelConfig saved;
        using (await _gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = await _factory.CreateDbContextAsync(ct).ConfigureAwait(false);
            // Tracked: the platform's contexts do not track queries by default, and an untracked row would not be updated.
            var row = await db.Set<ChannelEntity>().AsTracking().FirstOrDefaultAsync(c => c.Name == channel.Name, ct).ConfigureAwait(false);
            var settings = (JsonObject)channel.Settings.DeepClone();
            if (row is not null && JsonNode.Parse(row.Settings) is JsonObject previous)
                foreach (var (key, value) in previous)
                    if (ChannelConfig.SecretSettings.Contains(key) && !settings.ContainsKey(key)) settings[key] = value?.DeepClone();
            foreach (var key in settings.Select(p => p.Key).ToList())
                if (ChannelConfig.SecretSettings.Contains(key) && settings[key]?.GetValue<string>() is { } secret && !SecretProtector.IsProtected(secret))
                    settings[key] = _protector.Protect(secret, AssociatedData(channel.Name, key));
            if (row is null)
            {
                row = new ChannelEntity { Name = channel.Name, Kind = channel.Kind.ToString(), Settings = settings.ToJsonString(), CreatedAt = now };
                db.Add(row);
            }
            row.Kind = channel.Kind.ToString();
            row.Enabled = channel.Enabled;
            row.Settings = settings.ToJsonString();
            row.UpdatedAt = now;
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            saved = ToModel(row);
        }
        Changed?.Invoke(channel.Name);
        return saved;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct = default)
    {
        int n;
        using (await _gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = await _factory.CreateDbContextAsync(ct).ConfigureAwait(false);
            n = await db.Set<ChannelEntity>().Where(c => c.Name == name).ExecuteDeleteAsync(ct).ConfigureAwait(false);
        }
        if (n > 0) Changed?.Invoke(name);
        return n > 0;
    }

    private static string AssociatedData(string channel, string key) => SecretAssociatedData(channel, key);

    /// <summary>The associated data a channel's secret setting is encrypted with (binds the value to its channel and setting).</summary>
    public static string SecretAssociatedData(string channel, string setting) => $"channel:{channel}:{setting}";

    private ChannelConfig ToModel(ChannelEntity row)
    {
        var settings = JsonNode.Parse(row.Settings) as JsonObject ?? new JsonObject();
        foreach (var key in settings.Select(p => p.Key).ToList())
            if (ChannelConfig.SecretSettings.Contains(key) && settings[key] is JsonValue v && v.TryGetValue<string>(out var s) && SecretProtector.IsProtected(s))
                settings[key] = _protector.Unprotect(s, AssociatedData(row.Name, key));
        return new ChannelConfig
        {
            Name = row.Name, Kind = Enum.Parse<ChannelKind>(row.Kind, ignoreCase: true), Enabled = row.Enabled, Settings = settings,
            Source = ChannelSource.Api, CreatedAt = row.CreatedAt, UpdatedAt = row.UpdatedAt,
        };
    }

    private static List<ChannelConfig> ReadConfiguration(IConfigurationSection section)
    {
        var list = new List<ChannelConfig>();
        foreach (var child in section.GetChildren())
        {
            var kindText = child["kind"] ?? child["Kind"];
            if (!Enum.TryParse<ChannelKind>(kindText, ignoreCase: true, out var kind))
                throw new ChannelConfigurationException($"Platform:Channels:{child.Key} needs a 'kind': one of {string.Join(", ", Enum.GetNames<ChannelKind>())}.");
            if (!IsValidName(child.Key))
                throw new ChannelConfigurationException($"Platform:Channels:{child.Key}: channel names use letters, digits, '-' and '_' (at most 64).");
            var settings = new JsonObject();
            foreach (var s in child.GetChildren())
                if (!s.Key.Equals("kind", StringComparison.OrdinalIgnoreCase) && !s.Key.Equals("enabled", StringComparison.OrdinalIgnoreCase) && s.Value is not null)
                    settings[char.ToLowerInvariant(s.Key[0]) + s.Key[1..]] = s.Value;
            list.Add(new ChannelConfig
            {
                Name = child.Key, Kind = kind, Settings = settings, Source = ChannelSource.Configuration,
                Enabled = !bool.TryParse(child["enabled"] ?? child["Enabled"], out var enabled) || enabled,
            });
        }
        return list;
    }

    internal static JsonSerializerOptions Json => OutgoingEnvelope.JsonOptions;
}
