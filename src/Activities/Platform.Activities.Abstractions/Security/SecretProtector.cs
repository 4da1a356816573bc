using System.Security.Cryptography;
using System.Text;

namespace Platform.Activities.Security;

/// <summary>Configuration of <see cref="SecretProtector"/> (section <c>Platform:Secrets</c>; one key serves every pack).</summary>
public sealed class SecretProtectionOptions
{
    /// <summary>The configuration section the server binds.</summary>
    public const string SectionName = "Platform:Secrets";

    /// <summary>The 32-byte AES-256 key, base64 (<c>openssl rand -base64 32</c>). Configuration key
    /// <c>Platform:Secrets:Key</c>, environment variable <c>Platform__Secrets__Key</c>.</summary>
    public string? Key { get; set; }
}

/// <summary>The key is missing or malformed.</summary>
public sealed class SecretKeyException(string message) : InvalidOperationException(message);

/// <summary>A protected value could not be decrypted: it was modified, or was protected with another key.</summary>
public sealed class SecretDecryptionException(string message, Exception? inner = null) : CryptographicException(message, inner);

/// <summary>
/// Encrypts secrets that packs store (channel tokens, signing secrets, connection-string passwords) for storage with AES-256-GCM. Format:
/// <c>v1:&lt;base64(nonce[12] | ciphertext | tag[16])&gt;</c>, a fresh random nonce per value. Optional associated data
/// (for example <c>channel:telegram-support:BotToken</c>) binds a value to its place, so it cannot be copied into
/// another field. Part of the pack SDK so that every pack protects its secrets the same way under one key.
/// </summary>
public sealed class SecretProtector
{
    /// <summary>The prefix of protected values.</summary>
    public const string Prefix = "v1:";

    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const string HowToGenerate =
        "Generate one with `openssl rand -base64 32` and set it as configuration value Platform:Secrets:Key (environment variable Platform__Secrets__Key). "
        + "Keep it out of the database and back it up: secrets stored under it cannot be read without it.";

    private readonly byte[] _key;

    /// <summary>Creates a protector from a base64 32-byte key.</summary>
    /// <exception cref="SecretKeyException">The key is missing, not base64, or not 32 bytes.</exception>
    public SecretProtector(string? base64Key)
    {
        if (string.IsNullOrWhiteSpace(base64Key))
        {
            throw new SecretKeyException("No secret encryption key is configured (Platform:Secrets:Key). " + HowToGenerate);
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64Key.Trim());
        }
        catch (FormatException)
        {
            throw new SecretKeyException("Platform:Secrets:Key is not valid base64. " + HowToGenerate);
        }

        if (key.Length != 32)
        {
            throw new SecretKeyException($"Platform:Secrets:Key is {key.Length} bytes; AES-256 needs exactly 32. " + HowToGenerate);
        }

        _key = key;
    }

    /// <summary>Creates a protector from the raw 32-byte key (for example one the server loaded or generated).</summary>
    /// <exception cref="SecretKeyException">The key is not 32 bytes.</exception>
    public SecretProtector(ReadOnlySpan<byte> key)
    {
        if (key.Length != 32)
        {
            throw new SecretKeyException($"The secret encryption key is {key.Length} bytes; AES-256 needs exactly 32. " + HowToGenerate);
        }

        _key = key.ToArray();
    }

    /// <summary>A new random key, base64 (the same as <c>openssl rand -base64 32</c>).</summary>
    public static string GenerateKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>True when <paramref name="value"/> looks protected (has the version prefix).</summary>
    public static bool IsProtected(string? value) => value?.StartsWith(Prefix, StringComparison.Ordinal) == true;

    /// <summary>Encrypts <paramref name="plaintext"/>.</summary>
    public string Protect(string plaintext, string? associatedData = null)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length, TagSize),
            associatedData is null ? null : Encoding.UTF8.GetBytes(associatedData));
        CryptographicOperations.ZeroMemory(plain);
        return Prefix + Convert.ToBase64String(output);
    }

    /// <summary>Decrypts a value made by <see cref="Protect"/> with the same associated data.</summary>
    /// <exception cref="SecretDecryptionException">The value is malformed, modified, or from another key.</exception>
    public string Unprotect(string protectedValue, string? associatedData = null)
    {
        ArgumentNullException.ThrowIfNull(protectedValue);
        if (!IsProtected(protectedValue))
        {
            throw new SecretDecryptionException($"The value is not a protected secret (it should start with '{Prefix}').");
        }

        byte[] data;
        try
        {
            data = Convert.FromBase64String(protectedValue[Prefix.Length..]);
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
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize, cipherLength), data.AsSpan(NonceSize + cipherLength, TagSize),
                plain, associatedData is null ? null : Encoding.UTF8.GetBytes(associatedData));
        }
        catch (AuthenticationTagMismatchException exception)
        {
            throw new SecretDecryptionException(
                "The protected secret could not be decrypted: it was modified, belongs to another field, or was encrypted with a different Platform:Secrets:Key.",
                exception);
        }

        return Encoding.UTF8.GetString(plain);
    }
}
