namespace Platform.Channels.Http;

/// <summary>
/// An access token fetched on first use and kept until shortly before it expires (WeChat, WeCom and Feishu tokens live
/// two hours and each fetch counts against a daily quota). One fetch at a time; a token the service reports expired or
/// invalid is dropped with <see cref="Invalidate"/> and the next call fetches a new one.
/// </summary>
internal sealed class AccessTokenCache(Func<CancellationToken, Task<(string? Token, TimeSpan Lifetime, SendResult? Failure)>> fetch, TimeProvider time)
{
    /// <summary>A token is refreshed this long before the expiry the service announced.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset _expiresAt;

    /// <summary>The number of tokens fetched so far.</summary>
    public int Fetches { get; private set; }

    /// <summary>A valid token, or the failure of fetching one.</summary>
    public async Task<(string? Token, SendResult? Failure)> GetAsync(CancellationToken cancellationToken)
    {
        if (_token is { } cached && time.GetUtcNow() < _expiresAt)
        {
            return (cached, null);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_token is { } again && time.GetUtcNow() < _expiresAt)
            {
                return (again, null);
            }

            var (token, lifetime, failure) = await fetch(cancellationToken);
            if (token is null)
            {
                return (null, failure ?? SendResult.Permanent("No access token was returned.", "no_token"));
            }

            Fetches++;
            _token = token;
            var usable = lifetime > Margin * 2 ? lifetime - Margin : lifetime / 2;
            _expiresAt = time.GetUtcNow() + usable;
            return (token, null);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drops <paramref name="token"/> (if it is still the cached one).</summary>
    public void Invalidate(string token)
    {
        if (_token == token)
        {
            _token = null;
        }
    }
}
