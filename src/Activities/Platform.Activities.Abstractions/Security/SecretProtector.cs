using System.Security.Cryptography;
using System.Text;

namespace Platform.Activities.Security;

/// <summary>
/// Configuration of <see cref="SecretProtector"/> (section <c>Platform:Secrets</c>; the keys serve every pack). Either one
/// <see cref="Key"/> (the key id <see cref="SecretProtector.DefaultKeyId"/>), or several <see cref="Keys"/> by id with
/// <see cref="ActiveKeyId"/> naming the one new values are encrypted with; both may be set while keys are rotated.
/// </summary>
public sealed class SecretProtectionOptions
{
    /// <summary>The configuration section the server binds.</summary>
    public const string SectionName = "Platform:Secrets";

    /// <summary>The 32-byte AES-256 key, base64 (<c>openssl rand -base64 32</c>). Configuration key
    /// <c>Platform:Secrets:Key</c>, environment variable <c>Platform__Secrets__Key</c>. Its key id is
    /// <see cref="SecretProtector.DefaultKeyId"/>; values written under it start with <c>v1:</c>.</summary>
    public string? Key { get; set; }

    /// <summary>Further keys by id (letters, digits, '-' and '_', at most 32 characters), each base64 of 32 bytes:
    /// <c>Platform:Secrets:Keys:2026-12=…</c>. Values under any configured key can be read.</summary>
    public Dictionary<string, string?> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The id of the key new values are encrypted with (<c>Platform:Secrets:ActiveKeyId</c>). Needed when more
    /// than one entry of <see cref="Keys"/> is configured; otherwise the only entry of <see cref="Keys"/>, else
    /// <see cref="SecretProtector.DefaultKeyId"/>.</summary>
    public string? ActiveKeyId { get; set; }
}

/// <summary>The key is missing or malformed.</summary>
public sealed class SecretKeyException(string message) : InvalidOperationException(message);

/// <summary>A protected value could not be decrypted: it was modified, or was protected with another key.</summary>
public sealed class SecretDecryptionException(string message, Exception? inner = null) : CryptographicException(message, inner)
{
    /// <summary>The id of the key the value names when that key is not configured (so it cannot be read); otherwise null.</summary>
    public string? MissingKeyId { get; init; }
}

/// <summary>
/// Encrypts secrets that packs store (channel tokens, signing secrets, connection-string passwords) for storage with AES-256-GCM.
/// Formats: <c>v2:&lt;key id&gt;:&lt;base64(nonce[12] | ciphertext | tag[16])&gt;</c> under a key with an id, and
/// <c>v1:&lt;base64(…)&gt;</c> under the key <see cref="DefaultKeyId"/> (the single <c>Platform:Secrets:Key</c>, which every
/// version so far wrote). A fresh random nonce per value. Optional associated data (for example
/// <c>channel:telegram-support:BotToken</c>) binds a value to its place, so it cannot be copied into another field. New values
/// use the active key; values under any configured key are read, so keys can be rotated: add a key, make it active, re-encrypt
/// what is stored (<c>rotate-secrets</c>), then remove the old key. Part of the pack SDK so that every pack protects its
/// secrets the same way.
/// </summary>
public sealed class SecretProtector
{
    /// <summary>The prefix of values protected under the key <see cref="DefaultKeyId"/> (format 1).</summary>
    public const string Prefix = "v1:";

    /// <summary>The prefix of values protected under a key with an id (format 2: <c>v2:&lt;key id&gt;:&lt;base64&gt;</c>).</summary>
    public const string KeyIdPrefix = "v2:";

    /// <summary>The id of the single key <c>Platform:Secrets:Key</c> (or the generated <c>secrets.key</c>).</summary>
    public const string DefaultKeyId = "default";

    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int MaxKeyIdLength = 32;
    private const string HowToGenerate =
        "Generate one with `openssl rand -base64 32` and set it as configuration value Platform:Secrets:Key (environment variable Platform__Secrets__Key). "
        + "Keep it out of the database and back it up: secrets stored under it cannot be read without it.";

    private readonly Dictionary<string, byte[]> _keys;

    /// <summary>Creates a protector from a base64 32-byte key (key id <see cref="DefaultKeyId"/>).</summary>
    /// <exception cref="SecretKeyException">The key is missing, not base64, or not 32 bytes.</exception>
    public SecretProtector(string? base64Key)
    {
        if (string.IsNullOrWhiteSpace(base64Key))
        {
            throw new SecretKeyException("No secret encryption key is configured (Platform:Secrets:Key). " + HowToGenerate);
        }

        _keys = new(StringComparer.Ordinal) { [DefaultKeyId] = Decode(base64Key, "Platform:Secrets:Key") };
        ActiveKeyId = DefaultKeyId;
    }

    /// <summary>Creates a protector from the raw 32-byte key (for example one the server loaded or generated); key id <see cref="DefaultKeyId"/>.</summary>
    /// <exception cref="SecretKeyException">The key is not 32 bytes.</exception>
    public SecretProtector(ReadOnlySpan<byte> key)
    {
        if (key.Length != 32)
        {
            throw new SecretKeyException($"The secret encryption key is {key.Length} bytes; AES-256 needs exactly 32. " + HowToGenerate);
        }

        _keys = new(StringComparer.Ordinal) { [DefaultKeyId] = key.ToArray() };
        ActiveKeyId = DefaultKeyId;
    }

    /// <summary>Creates a protector with several keys by id; new values are encrypted under <paramref name="activeKeyId"/>.</summary>
    /// <param name="keys">The raw 32-byte keys by id (letters, digits, '-' and '_', at most 32 characters).</param>
    /// <param name="activeKeyId">The id of the key new values use; one of <paramref name="keys"/>.</param>
    /// <exception cref="SecretKeyException">No key, a key that is not 32 bytes, a malformed id, or an active id that is not among the keys.</exception>
    public SecretProtector(IReadOnlyDictionary<string, byte[]> keys, string activeKeyId)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0) throw new SecretKeyException("No secret encryption key is configured (Platform:Secrets:Key or Platform:Secrets:Keys:<id>). " + HowToGenerate);
        _keys = new(StringComparer.Ordinal);
        foreach (var (id, key) in keys)
        {
            CheckKeyId(id);
            if (key is null || key.Length != 32)
                throw new SecretKeyException($"The secret encryption key '{id}' is {key?.Length ?? 0} bytes; AES-256 needs exactly 32. " + HowToGenerate);
            _keys[id] = (byte[])key.Clone();
        }
        if (string.IsNullOrWhiteSpace(activeKeyId) || !_keys.ContainsKey(activeKeyId))
            throw new SecretKeyException($"Platform:Secrets:ActiveKeyId is '{activeKeyId}', which is not a configured key; use one of: {string.Join(", ", _keys.Keys.Order(StringComparer.Ordinal))}.");
        ActiveKeyId = activeKeyId;
    }

    /// <summary>
    /// Creates a protector from configuration: <see cref="SecretProtectionOptions.Key"/> (id <see cref="DefaultKeyId"/>, or
    /// <paramref name="defaultKey"/> when it is not set), the <see cref="SecretProtectionOptions.Keys"/> and the active key id.
    /// </summary>
    /// <param name="options">The bound section <c>Platform:Secrets</c>.</param>
    /// <param name="defaultKey">The key of id <see cref="DefaultKeyId"/> when <c>Key</c> is not configured (for example one
    /// generated into a file), or null.</param>
    /// <exception cref="SecretKeyException">A key is missing or malformed; the message says how to fix it.</exception>
    public static SecretProtector FromOptions(SecretProtectionOptions options, byte[]? defaultKey = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(options.Key)) keys[DefaultKeyId] = Decode(options.Key, "Platform:Secrets:Key");
        else if (defaultKey is not null) keys[DefaultKeyId] = defaultKey;
        foreach (var (id, text) in options.Keys ?? new Dictionary<string, string?>())
        {
            CheckKeyId(id);
            if (string.IsNullOrWhiteSpace(text)) continue; // an emptied entry (environment variables cannot be removed everywhere)
            var key = Decode(text, $"Platform:Secrets:Keys:{id}");
            if (keys.TryGetValue(id, out var other) && !other.AsSpan().SequenceEqual(key))
                throw new SecretKeyException($"Platform:Secrets:Keys:{id} differs from Platform:Secrets:Key, whose id is '{DefaultKeyId}'. Give the new key another id.");
            keys[id] = key;
        }
        if (keys.Count == 0) throw new SecretKeyException("No secret encryption key is configured (Platform:Secrets:Key). " + HowToGenerate);
        var active = options.ActiveKeyId?.Trim();
        if (string.IsNullOrEmpty(active))
        {
            var named = (options.Keys ?? new Dictionary<string, string?>()).Where(p => !string.IsNullOrWhiteSpace(p.Value)).Select(p => p.Key).ToList();
            active = named.Count switch
            {
                0 => DefaultKeyId,
                1 => named[0],
                _ => throw new SecretKeyException($"Several secret keys are configured ({string.Join(", ", keys.Keys.Order(StringComparer.Ordinal))}); " +
                                                  "set Platform:Secrets:ActiveKeyId to the one new secrets are encrypted with (the newest)."),
            };
        }
        return new SecretProtector(keys, active);
    }

    /// <summary>The id of the key new values are encrypted with.</summary>
    public string ActiveKeyId { get; }

    /// <summary>The ids of the configured keys (values under any of them can be read).</summary>
    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    /// <summary>A new random key, base64 (the same as <c>openssl rand -base64 32</c>).</summary>
    public static string GenerateKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>True when <paramref name="value"/> looks protected (has a version prefix).</summary>
    public static bool IsProtected(string? value) =>
        value?.StartsWith(Prefix, StringComparison.Ordinal) == true || value?.StartsWith(KeyIdPrefix, StringComparison.Ordinal) == true;

    /// <summary>The id of the key a protected value names (<see cref="DefaultKeyId"/> for format 1), or null when it is not a protected value.</summary>
    public static string? KeyIdOf(string? protectedValue)
    {
        if (protectedValue is null) return null;
        if (protectedValue.StartsWith(Prefix, StringComparison.Ordinal)) return DefaultKeyId;
        if (!protectedValue.StartsWith(KeyIdPrefix, StringComparison.Ordinal)) return null;
        var colon = protectedValue.IndexOf(':', KeyIdPrefix.Length);
        return colon <= KeyIdPrefix.Length ? null : protectedValue[KeyIdPrefix.Length..colon];
    }

    /// <summary>True when <paramref name="protectedValue"/> is protected under another key than the active one (so
    /// <see cref="Reprotect"/> would change it).</summary>
    public bool NeedsRotation(string? protectedValue) => IsProtected(protectedValue) && KeyIdOf(protectedValue) != ActiveKeyId;

    /// <summary>True when a key of this id is configured.</summary>
    public bool HasKey(string keyId) => keyId is not null && _keys.ContainsKey(keyId);

    /// <summary>Encrypts <paramref name="plaintext"/> under the active key.</summary>
    public string Protect(string plaintext, string? associatedData = null) => Protect(plaintext, associatedData, ActiveKeyId);

    /// <summary>Encrypts <paramref name="plaintext"/> under the configured key <paramref name="keyId"/>.</summary>
    /// <exception cref="SecretKeyException">No key of that id is configured.</exception>
    public string Protect(string plaintext, string? associatedData, string keyId)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        if (keyId is null || !_keys.TryGetValue(keyId, out var key))
            throw new SecretKeyException($"No secret key '{keyId}' is configured; configure it as Platform:Secrets:Keys:{keyId}.");
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length, TagSize),
            associatedData is null ? null : Encoding.UTF8.GetBytes(associatedData));
        CryptographicOperations.ZeroMemory(plain);
        return keyId == DefaultKeyId ? Prefix + Convert.ToBase64String(output) : $"{KeyIdPrefix}{keyId}:{Convert.ToBase64String(output)}";
    }

    /// <summary>Decrypts a value made by <see cref="Protect(string, string?)"/> with the same associated data, under whichever
    /// configured key it names.</summary>
    /// <exception cref="SecretDecryptionException">The value is malformed or modified, names a key that is not configured
    /// (<see cref="SecretDecryptionException.MissingKeyId"/>), or is from another key of the same id.</exception>
    public string Unprotect(string protectedValue, string? associatedData = null)
    {
        ArgumentNullException.ThrowIfNull(protectedValue);
        if (!IsProtected(protectedValue))
        {
            throw new SecretDecryptionException($"The value is not a protected secret (it should start with '{Prefix}' or '{KeyIdPrefix}').");
        }

        var keyId = KeyIdOf(protectedValue)
                    ?? throw new SecretDecryptionException($"The protected secret names no key id (it should look like '{KeyIdPrefix}<key id>:<base64>').");
        if (!_keys.TryGetValue(keyId, out var key))
        {
            throw new SecretDecryptionException(keyId == DefaultKeyId
                ? $"The protected secret was encrypted under the key '{DefaultKeyId}' (Platform:Secrets:Key), which is not configured. " +
                  "Configure that key again (Platform:Secrets:Key) to read it, or save the item again with its secret."
                : $"The protected secret was encrypted under the key '{keyId}', which is not configured. Configure it again as " +
                  $"Platform:Secrets:Keys:{keyId} to read it (run rotate-secrets before removing a key), or save the item again with its secret.")
            {
                MissingKeyId = keyId,
            };
        }

        var payload = keyId == DefaultKeyId && protectedValue.StartsWith(Prefix, StringComparison.Ordinal)
            ? protectedValue[Prefix.Length..]
            : protectedValue[(KeyIdPrefix.Length + keyId.Length + 1)..];
        byte[] data;
        try
        {
            data = Convert.FromBase64String(payload);
        }
        catch (FormatException exception)
        {
            throw new SecretDecryptionException("The protected secret is not valid base64.", exception);
        }

        if (data.Length < NonceSize + TagSize)
        {
            throw new SecretDecryptionException("The protected secret is too short to be valid.");
        }

        var cipherLength = data.Length - NonceSize - TagSize;
        var plain = new byte[cipherLength];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize, cipherLength), data.AsSpan(NonceSize + cipherLength, TagSize),
                plain, associatedData is null ? null : Encoding.UTF8.GetBytes(associatedData));
        }
        catch (AuthenticationTagMismatchException exception)
        {
            throw new SecretDecryptionException(keyId == DefaultKeyId
                ? "The protected secret could not be decrypted: it was modified, belongs to another field, or was encrypted with a different Platform:Secrets:Key."
                : $"The protected secret could not be decrypted: it was modified, belongs to another field, or was encrypted with a different key of the id '{keyId}' (Platform:Secrets:Keys:{keyId}).",
                exception);
        }

        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>
    /// The value encrypted under the active key: <paramref name="protectedValue"/> itself when it already is (rotation is
    /// idempotent), else decrypted and encrypted again with the same associated data.
    /// </summary>
    /// <exception cref="SecretDecryptionException">The value cannot be read (see <see cref="Unprotect"/>).</exception>
    public string Reprotect(string protectedValue, string? associatedData = null)
    {
        ArgumentNullException.ThrowIfNull(protectedValue);
        return NeedsRotation(protectedValue) ? Protect(Unprotect(protectedValue, associatedData), associatedData) : protectedValue;
    }

    /// <summary>True when <paramref name="keyId"/> can name a key: letters, digits, '-' and '_', 1–32 characters.</summary>
    public static bool IsValidKeyId(string? keyId) =>
        !string.IsNullOrEmpty(keyId) && keyId.Length <= MaxKeyIdLength && keyId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static void CheckKeyId(string id)
    {
        if (!IsValidKeyId(id))
            throw new SecretKeyException($"The secret key id '{id}' is not valid: use letters, digits, '-' and '_' (at most {MaxKeyIdLength}), e.g. Platform:Secrets:Keys:2026-12.");
    }

    private static byte[] Decode(string base64Key, string setting)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64Key.Trim());
        }
        catch (FormatException)
        {
            throw new SecretKeyException($"{setting} is not valid base64. " + HowToGenerate);
        }

        if (key.Length != 32)
        {
            throw new SecretKeyException($"{setting} is {key.Length} bytes; AES-256 needs exactly 32. " + HowToGenerate);
        }

        return key;
    }
}
