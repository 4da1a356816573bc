using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.Activities;

namespace Platform.Server.Security;

/// <summary>A key created at run time, as stored (document kind <see cref="ApiKeyStore.Kind"/>): the secret only as its SHA-256.</summary>
/// <param name="Id">The key's id (not secret).</param>
/// <param name="Name">A name for people, logs and audit.</param>
/// <param name="Role">One of <see cref="ApiKeyRoles.All"/>.</param>
/// <param name="Prefix">The first characters of the key, to recognise it in lists (not enough to use it).</param>
/// <param name="Hash">Base64 of the SHA-256 of the key.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="CreatedBy">Who created it (the principal's name).</param>
/// <param name="ExpiresAt">When it stops working; null: never.</param>
/// <param name="RotatedAt">When its secret was last replaced.</param>
/// <param name="RevokedAt">When it was revoked; null while it is not.</param>
/// <param name="RevokedBy">Who revoked it.</param>
/// <param name="Owner">Who the key belongs to: a user name or a service account's name (null for keys made before owners existed).</param>
/// <param name="OwnerKind"><see cref="ApiKeyOwner.User"/> or <see cref="ApiKeyOwner.Service"/>.</param>
public sealed record StoredApiKey(string Id, string Name, string Role, string Prefix, string Hash, DateTimeOffset CreatedAt, string? CreatedBy,
    DateTimeOffset? ExpiresAt, DateTimeOffset? RotatedAt, DateTimeOffset? RevokedAt, string? RevokedBy, string? Owner = null, string? OwnerKind = null);

/// <summary>Who a run-time key belongs to: a user (whose keys are revoked when the user is disabled, deleted or demoted) or a
/// service account (a name for a program; it has no account of its own).</summary>
/// <param name="Kind"><see cref="User"/> or <see cref="Service"/>.</param>
/// <param name="Name">The user name or the service account's name.</param>
public sealed record ApiKeyOwner(string Kind, string Name)
{
    /// <summary>The owner is a user (local account or single sign-on).</summary>
    public const string User = "user";

    /// <summary>The owner is a service account.</summary>
    public const string Service = "service";

    /// <summary>True when a stored key belongs to this owner (names compare case-insensitively, as user names do).</summary>
    public bool Owns(string? kind, string? name) =>
        string.Equals(kind, Kind, StringComparison.Ordinal) && string.Equals(name, Name, StringComparison.OrdinalIgnoreCase);

    /// <summary>How the owner reads in logs and the audit trail: <c>user alice</c>, <c>service backup</c>.</summary>
    public override string ToString() => $"{Kind} {Name}";
}

/// <summary>A run-time key as <c>GET /api/keys</c> shows it (never the secret).</summary>
/// <param name="Id">The key's id.</param>
/// <param name="Name">Its name.</param>
/// <param name="Role">Its role.</param>
/// <param name="Prefix">The first characters of the key.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="CreatedBy">Who created it.</param>
/// <param name="ExpiresAt">When it stops working; null: never.</param>
/// <param name="LastUsedAt">When it was last accepted (recorded at most once a minute per key and node).</param>
/// <param name="RotatedAt">When its secret was last replaced.</param>
/// <param name="RevokedAt">When it was revoked.</param>
/// <param name="Status"><c>active</c>, <c>expired</c> or <c>revoked</c>.</param>
/// <param name="Owner">Who the key belongs to (a user or service account name; null for keys made before owners existed).</param>
/// <param name="OwnerKind"><c>user</c> or <c>service</c>.</param>
public sealed record ApiKeyInfo(string Id, string Name, string Role, string Prefix, DateTimeOffset CreatedAt, string? CreatedBy,
    DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RotatedAt, DateTimeOffset? RevokedAt, string Status,
    string? Owner = null, string? OwnerKind = null);

/// <summary>What checking a presented key found.</summary>
public enum ApiKeyCheckOutcome
{
    /// <summary>No key was presented.</summary>
    None,

    /// <summary>The key is valid: see <see cref="ApiKeyCheck.Identity"/>.</summary>
    Valid,

    /// <summary>No such key (counted by the lockout).</summary>
    Unknown,

    /// <summary>A run-time key past its expiry.</summary>
    Expired,

    /// <summary>A revoked run-time key.</summary>
    Revoked,

    /// <summary>The client's address is locked out after too many unknown keys: answer 429 with <see cref="ApiKeyCheck.RetryAfter"/>.</summary>
    LockedOut,
}

/// <summary>The result of <see cref="ApiKeyStore.CheckAsync"/>.</summary>
/// <param name="Outcome">What was found.</param>
/// <param name="Identity">Who the key belongs to, when valid.</param>
/// <param name="Message">Why it was refused, for the client.</param>
/// <param name="RetryAfter">How long a locked-out client must wait.</param>
public sealed record ApiKeyCheck(ApiKeyCheckOutcome Outcome, ApiKeyIdentity? Identity = null, string? Message = null, TimeSpan? RetryAfter = null);

/// <summary>
/// Every API key the server accepts, in one place: the configured (or generated) keys of <see cref="ApiKeyRegistry"/> and the
/// keys created at run time through <c>/api/keys</c>. Run-time keys are configuration documents of kind <see cref="Kind"/>
/// (table <c>configuration_documents</c>, shared by every node), held in memory and refreshed every configuration refresh
/// interval, so a revocation reaches every node within that interval. Their last use is written to documents of kind
/// <see cref="UsageKind"/> at most once a minute per key and node (never a write per request).
/// Anything that authenticates a key (the API's authentication handler, the Hangfire dashboard, a future sign-in) calls
/// <see cref="CheckAsync"/> and builds its principal with <see cref="CreatePrincipal"/>.
/// </summary>
public sealed class ApiKeyStore : IDisposable
{
    /// <summary>The document kind of run-time keys.</summary>
    public const string Kind = "api-keys";

    /// <summary>The document kind of their last use (kept apart so that recording a use never rewrites a key).</summary>
    public const string UsageKind = "api-key-usage";

    /// <summary>What run-time keys start with.</summary>
    public const string KeyPrefix = "pk_";

    /// <summary>The claim type of a run-time key's id.</summary>
    public const string KeyIdClaim = "platform:key-id";

    /// <summary>The claim type of a run-time key's owner (<see cref="ApiKeyOwner.ToString"/>: <c>user alice</c>).</summary>
    public const string OwnerClaim = "platform:key-owner";

    /// <summary>How often a key's last use is written at most.</summary>
    public static readonly TimeSpan UsageWriteInterval = TimeSpan.FromMinutes(1);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ApiKeyRegistry _registry;
    private readonly IConfigurationDocuments _documents;
    private readonly KeyLockout _lockout;
    private readonly TimeProvider _clock;
    private readonly ILogger<ApiKeyStore> _logger;
    private readonly ConfigurationDocumentCache<StoredApiKey> _cache;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastUsed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastWritten = new(StringComparer.Ordinal);
    private volatile Snapshot? _snapshot;
    private int _version;

    /// <summary>Creates the store.</summary>
    public ApiKeyStore(ApiKeyRegistry registry, IConfigurationDocuments documents, KeyLockout lockout, TimeProvider clock,
        ILogger<ApiKeyStore> logger, TimeSpan refreshInterval)
    {
        _registry = registry;
        _documents = documents;
        _lockout = lockout;
        _clock = clock;
        _logger = logger;
        _cache = new ConfigurationDocumentCache<StoredApiKey>(documents, Kind, k => k.Id, k => JsonSerializer.Serialize(k, Json),
            json => JsonSerializer.Deserialize<StoredApiKey>(json, Json) ?? throw new JsonException("The document is null."), refreshInterval, logger);
        _cache.Changed += _ => Interlocked.Increment(ref _version);
    }

    /// <summary>The configured and generated keys.</summary>
    public ApiKeyRegistry Registry => _registry;

    /// <summary>Checks a presented key from <paramref name="remoteAddress"/>: lockout first, then configured keys (constant time),
    /// then run-time keys (by hash), counting unknown keys towards the lockout and recording the last use of run-time keys.</summary>
    public async Task<ApiKeyCheck> CheckAsync(string? presented, IPAddress? remoteAddress, CancellationToken cancellationToken = default)
    {
        var key = presented?.Trim();
        if (string.IsNullOrEmpty(key)) return new ApiKeyCheck(ApiKeyCheckOutcome.None);
        if (_lockout.LockedFor(remoteAddress) is { } wait)
            return new ApiKeyCheck(ApiKeyCheckOutcome.LockedOut, Message: "Too many invalid API keys came from this address.", RetryAfter: wait);

        if (_registry.Validate(key) is { } configured) return new ApiKeyCheck(ApiKeyCheckOutcome.Valid, configured);

        var snapshot = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
        var hash = Convert.ToBase64String(ApiKeyRegistry.Hash(key));
        if (!snapshot.ByHash.TryGetValue(hash, out var stored))
        {
            _lockout.RecordFailure(remoteAddress);
            return new ApiKeyCheck(ApiKeyCheckOutcome.Unknown, Message: "The API key is not valid.");
        }
        var now = _clock.GetUtcNow();
        if (stored.RevokedAt is { } revoked)
            return new ApiKeyCheck(ApiKeyCheckOutcome.Revoked, Message: $"The API key '{stored.Name}' was revoked at {revoked:u}.");
        if (stored.ExpiresAt is { } expires && expires <= now)
            return new ApiKeyCheck(ApiKeyCheckOutcome.Expired, Message: $"The API key '{stored.Name}' expired at {expires:u}.");
        RecordUse(stored.Id, now);
        return new ApiKeyCheck(ApiKeyCheckOutcome.Valid, new ApiKeyIdentity(stored.Name, stored.Role, stored.Id,
            stored.Owner is null ? null : new ApiKeyOwner(stored.OwnerKind ?? ApiKeyOwner.Service, stored.Owner)));
    }

    /// <summary>The principal of a valid key: <c>ClaimTypes.Name</c>, <c>ClaimTypes.Role</c> and, for run-time keys, <see cref="KeyIdClaim"/>.</summary>
    public static ClaimsPrincipal CreatePrincipal(ApiKeyIdentity identity, string authenticationType)
    {
        ArgumentNullException.ThrowIfNull(identity);
        List<Claim> claims = [new(ClaimTypes.Name, identity.Name), new(ClaimTypes.Role, identity.Role)];
        if (identity.KeyId is not null) claims.Add(new Claim(KeyIdClaim, identity.KeyId));
        if (identity.Owner is not null) claims.Add(new Claim(OwnerClaim, identity.Owner.ToString()));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType));
    }

    /// <summary>Every run-time key (also expired and revoked ones), newest first.</summary>
    public async Task<IReadOnlyList<ApiKeyInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var keys = await _cache.ListAsync(cancellationToken).ConfigureAwait(false);
        var usage = new Dictionary<string, DateTimeOffset>(StringComparer.OrdinalIgnoreCase);
        foreach (var document in await _documents.ListAsync(UsageKind, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                if (JsonSerializer.Deserialize<Usage>(document.Json, Json) is { } u) usage[document.Id] = u.LastUsedAt;
            }
            catch (JsonException) { } // a broken usage record only loses the last-used time
        }
        return keys.Select(k => ToInfo(k, usage.TryGetValue(k.Id, out var used) ? used : null)).OrderByDescending(k => k.CreatedAt).ToList();
    }

    /// <summary>One run-time key, or null.</summary>
    public async Task<ApiKeyInfo?> FindAsync(string id, CancellationToken cancellationToken = default) =>
        (await ListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(k => string.Equals(k.Id, id, StringComparison.OrdinalIgnoreCase));

    /// <summary>Creates a key owned by a service account of the key's name; the answer holds the secret, which is not kept.</summary>
    public Task<(ApiKeyInfo Info, string Key)> CreateAsync(string name, string role, DateTimeOffset? expiresAt, string? createdBy,
        CancellationToken cancellationToken = default) =>
        CreateAsync(name, role, expiresAt, createdBy, new ApiKeyOwner(ApiKeyOwner.Service, name.Trim()), cancellationToken);

    /// <summary>Revokes every active key of <paramref name="owner"/> (all of them, or those whose role is above
    /// <paramref name="aboveRole"/>): a disabled, deleted or demoted user's keys stop working at once.</summary>
    /// <returns>The revoked keys.</returns>
    public async Task<IReadOnlyList<ApiKeyInfo>> RevokeOwnedAsync(ApiKeyOwner owner, string? actor, string? aboveRole = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var rank = aboveRole is null ? -1 : ApiKeyRoles.All.ToList().IndexOf(aboveRole);
        var revoked = new List<ApiKeyInfo>();
        foreach (var key in await _cache.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (key.RevokedAt is not null || !owner.Owns(key.OwnerKind, key.Owner)) continue;
            if (aboveRole is not null && ApiKeyRoles.All.ToList().IndexOf(key.Role) <= rank) continue;
            if (await RevokeAsync(key.Id, actor, cancellationToken).ConfigureAwait(false) is { } info) revoked.Add(info);
        }
        return revoked;
    }

    /// <summary>Creates a key for <paramref name="owner"/>; the answer holds the secret, which is not kept and cannot be shown again.</summary>
    public async Task<(ApiKeyInfo Info, string Key)> CreateAsync(string name, string role, DateTimeOffset? expiresAt, string? createdBy,
        ApiKeyOwner owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var parsed = ApiKeyRoles.Parse(role) ?? throw new ArgumentException($"'{role}' is not a role.", nameof(role));
        var (key, prefix, hash) = NewSecret();
        var stored = new StoredApiKey(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), name.Trim(), parsed, prefix, hash,
            _clock.GetUtcNow(), createdBy, expiresAt, null, null, null, owner.Name, owner.Kind);
        await _cache.SaveAsync(stored, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("API key {KeyName} ({KeyId}, {Role}) of {Owner} created by {Actor}", stored.Name, stored.Id, stored.Role, owner, createdBy);
        return (ToInfo(stored, null), key);
    }

    /// <summary>Gives a key a new secret (the old one stops working at once on this node, within the refresh interval on others).</summary>
    /// <returns>Null when there is no such key.</returns>
    /// <exception cref="InvalidOperationException">The key is revoked.</exception>
    public async Task<(ApiKeyInfo Info, string Key)?> RotateAsync(string id, string? actor, CancellationToken cancellationToken = default)
    {
        var stored = await _cache.FindAsync(id, cancellationToken).ConfigureAwait(false);
        if (stored is null) return null;
        if (stored.RevokedAt is not null) throw new InvalidOperationException($"The API key '{stored.Name}' is revoked and cannot be rotated.");
        var (key, prefix, hash) = NewSecret();
        var rotated = stored with { Prefix = prefix, Hash = hash, RotatedAt = _clock.GetUtcNow() };
        await _cache.SaveAsync(rotated, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("API key {KeyName} ({KeyId}) rotated by {Actor}", stored.Name, stored.Id, actor);
        return (ToInfo(rotated, _lastUsed.TryGetValue(stored.Id, out var used) ? used : null), key);
    }

    /// <summary>Revokes a key for good (it is kept, marked revoked, so that its use gets a clear 401).</summary>
    /// <returns>Null when there is no such key; the key (revoked) otherwise, also when it was revoked before.</returns>
    public async Task<ApiKeyInfo?> RevokeAsync(string id, string? actor, CancellationToken cancellationToken = default)
    {
        var stored = await _cache.FindAsync(id, cancellationToken).ConfigureAwait(false);
        if (stored is null) return null;
        if (stored.RevokedAt is null)
        {
            stored = stored with { RevokedAt = _clock.GetUtcNow(), RevokedBy = actor };
            await _cache.SaveAsync(stored, cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("API key {KeyName} ({KeyId}) revoked by {Actor}", stored.Name, stored.Id, actor);
        }
        return ToInfo(stored, _lastUsed.TryGetValue(stored.Id, out var used) ? used : null);
    }

    /// <summary>Loads the run-time keys (and starts looking for other nodes' changes).</summary>
    public Task LoadAsync(CancellationToken cancellationToken = default) => SnapshotAsync(cancellationToken).AsTask();

    /// <summary>Looks for other nodes' changes now (the store does this every refresh interval by itself).</summary>
    public Task RefreshAsync(CancellationToken cancellationToken = default) => _cache.RefreshAsync(cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();

    private async ValueTask<Snapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        var version = Volatile.Read(ref _version);
        if (_snapshot is { } current && current.Version == version) return current;
        var keys = await _cache.ListAsync(cancellationToken).ConfigureAwait(false);
        var fresh = new Snapshot(version, keys.GroupBy(k => k.Hash, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal));
        _snapshot = fresh;
        return fresh;
    }

    private void RecordUse(string id, DateTimeOffset now)
    {
        _lastUsed[id] = now;
        if (_lastWritten.TryGetValue(id, out var written) && now - written < UsageWriteInterval) return;
        _lastWritten[id] = now;
        _ = Task.Run(async () =>
        {
            try
            {
                await _documents.SaveAsync(UsageKind, id, JsonSerializer.Serialize(new Usage(now), Json)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogWarning(e, "The last use of API key {KeyId} could not be recorded", id);
            }
        });
    }

    private ApiKeyInfo ToInfo(StoredApiKey k, DateTimeOffset? storedUse)
    {
        DateTimeOffset? lastUsed = storedUse == default ? null : storedUse;
        if (_lastUsed.TryGetValue(k.Id, out var local) && (lastUsed is null || local > lastUsed)) lastUsed = local;
        var status = k.RevokedAt is not null ? "revoked" : k.ExpiresAt is { } e && e <= _clock.GetUtcNow() ? "expired" : "active";
        return new ApiKeyInfo(k.Id, k.Name, k.Role, k.Prefix, k.CreatedAt, k.CreatedBy, k.ExpiresAt, lastUsed, k.RotatedAt, k.RevokedAt, status,
            k.Owner, k.Owner is null ? null : k.OwnerKind ?? ApiKeyOwner.Service);
    }

    private static (string Key, string Prefix, string Hash) NewSecret()
    {
        var key = KeyPrefix + ApiKeyRegistry.Base64Url(RandomNumberGenerator.GetBytes(32));
        return (key, key[..(KeyPrefix.Length + 6)], Convert.ToBase64String(ApiKeyRegistry.Hash(key)));
    }

    private sealed record Snapshot(int Version, Dictionary<string, StoredApiKey> ByHash);

    private sealed record Usage(DateTimeOffset LastUsedAt);
}
