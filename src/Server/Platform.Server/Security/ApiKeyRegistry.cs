using System.Security.Cryptography;
using System.Text;
using Platform.Server.Extensions;

namespace Platform.Server.Security;

/// <summary>Who a valid key belongs to.</summary>
/// <param name="Name">The key's name.</param>
/// <param name="Role">One of <see cref="ApiKeyRoles.All"/>.</param>
/// <param name="KeyId">The id of a key created at run time (<c>/api/keys</c>); null for a configured or generated key.</param>
/// <param name="Owner">Who a run-time key belongs to; null for configured keys (and keys made before owners existed).</param>
public sealed record ApiKeyIdentity(string Name, string Role, string? KeyId = null, ApiKeyOwner? Owner = null);

/// <summary>
/// The API keys the server accepts. Keys are held only as SHA-256 hashes and compared in constant time.
/// When none is configured, an admin key is generated once, stored in <c>{DataDirectory}/admin-api-key</c> (mode 0600)
/// and reused on later starts.
/// </summary>
public sealed class ApiKeyRegistry
{
    /// <summary>The file that holds the generated admin key.</summary>
    public const string AdminKeyFileName = "admin-api-key";

    /// <summary>The minimum length of a configured key.</summary>
    public const int MinimumKeyLength = 16;

    private readonly (byte[] Hash, ApiKeyIdentity Identity)[] _keys;

    private ApiKeyRegistry((byte[] Hash, ApiKeyIdentity Identity)[] keys, string? generatedKey, string? generatedKeyPath)
    {
        _keys = keys;
        GeneratedKey = generatedKey;
        GeneratedKeyPath = generatedKeyPath;
    }

    /// <summary>The generated admin key when no key is configured; null otherwise.</summary>
    public string? GeneratedKey { get; }

    /// <summary>Where the generated admin key is stored; null when keys are configured.</summary>
    public string? GeneratedKeyPath { get; }

    /// <summary>How many keys are configured (or 1 for the generated key).</summary>
    public int Count => _keys.Length;

    /// <summary>The names of configured keys with the role Operator that were made Viewers (see <see cref="ReadOnlyOperatorKeysSetting"/>).</summary>
    public IReadOnlyList<string> ReadOnlyOperatorKeyNames { get; private init; } = [];

    /// <summary>
    /// The setting that keeps configured Operator keys read-only (default true): before roles existed an Operator key could only
    /// read, so such a key gets the role Viewer. False gives configured Operator keys the Operator role (run, retry, cancel…).
    /// </summary>
    public const string ReadOnlyOperatorKeysSetting = "Platform:Security:ReadOnlyOperatorKeys";

    /// <summary>
    /// Builds the registry from configuration, or from the generated admin key file when no key is configured.
    /// </summary>
    /// <exception cref="InvalidOperationException">A configured key is empty, too short, duplicated or has an unknown role.</exception>
    public static ApiKeyRegistry Create(IReadOnlyList<ApiKeyOptions> configured, string dataDirectory, bool readOnlyOperatorKeys = true)
    {
        ArgumentNullException.ThrowIfNull(configured);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);

        // A configuration entry without any value (e.g. an empty array element) is ignored.
        var entries = configured.Where(k => !string.IsNullOrWhiteSpace(k.Key) || !string.IsNullOrWhiteSpace(k.Name) || !string.IsNullOrWhiteSpace(k.Role)).ToList();
        if (entries.Count == 0)
        {
            var path = Path.Combine(dataDirectory, AdminKeyFileName);
            var key = LoadOrCreateAdminKey(path);
            return new ApiKeyRegistry([(Hash(key), new ApiKeyIdentity("admin (generated)", ApiKeyRoles.Admin))], key, path);
        }

        var keys = new List<(byte[], ApiKeyIdentity)>();
        var readOnlyOperators = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var name = string.IsNullOrWhiteSpace(e.Name) ? $"key {i}" : e.Name.Trim();
            var key = e.Key?.Trim();
            if (string.IsNullOrEmpty(key))
                throw new InvalidOperationException($"API key '{name}' (Platform:ApiKeys:{i}) has no Key. Set Platform:ApiKeys:{i}:Key to a random secret of at least {MinimumKeyLength} characters, or remove the entry.");
            if (key.Length < MinimumKeyLength)
                throw new InvalidOperationException($"API key '{name}' (Platform:ApiKeys:{i}) is shorter than {MinimumKeyLength} characters. Use a random secret, for example the output of 'openssl rand -base64 32'.");
            // No role: read-only, as a key without a role was before roles existed.
            var role = ApiKeyRoles.Parse(string.IsNullOrWhiteSpace(e.Role) ? ApiKeyRoles.Viewer : e.Role)
                ?? throw new InvalidOperationException($"API key '{name}' (Platform:ApiKeys:{i}) has the unknown role '{e.Role}'. Use one of {string.Join(", ", ApiKeyRoles.All)} (docs/security.md).");
            if (role == ApiKeyRoles.Operator && readOnlyOperatorKeys)
            {
                role = ApiKeyRoles.Viewer; // read-only, as before roles existed
                readOnlyOperators.Add(name);
            }
            if (!seen.Add(key))
                throw new InvalidOperationException($"API key '{name}' (Platform:ApiKeys:{i}) repeats another key. Give every client its own key.");
            keys.Add((Hash(key), new ApiKeyIdentity(name, role)));
        }
        return new ApiKeyRegistry([.. keys], null, null) { ReadOnlyOperatorKeyNames = readOnlyOperators };
    }

    /// <summary>Finds who a presented key belongs to; every key is compared, in constant time.</summary>
    public ApiKeyIdentity? Validate(string? presented)
    {
        if (string.IsNullOrEmpty(presented)) return null;
        var hash = Hash(presented.Trim());
        ApiKeyIdentity? match = null;
        foreach (var (h, identity) in _keys)
        {
            // No early exit: the time taken does not depend on which key (if any) matched.
            if (CryptographicOperations.FixedTimeEquals(h, hash)) match = identity;
        }
        return match;
    }

    /// <summary>The SHA-256 of a key's UTF-8 text.</summary>
    internal static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string LoadOrCreateAdminKey(string path)
    {
        if (File.Exists(path))
        {
            RestrictToOwner(path);
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length >= MinimumKeyLength) return existing;
            throw new InvalidOperationException($"The admin key file '{path}' is empty or shorter than {MinimumKeyLength} characters. Delete it to have a new key generated, or configure Platform:ApiKeys.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = Base64Url(RandomNumberGenerator.GetBytes(32));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream, new UTF8Encoding(false));
            writer.Write(key);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs.
            return LoadOrCreateAdminKey(path);
        }
        return key;
    }

    private static void RestrictToOwner(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        var mode = File.GetUnixFileMode(path);
        var wanted = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if ((mode & ~wanted) != 0) File.SetUnixFileMode(path, mode & wanted);
    }

    internal static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
