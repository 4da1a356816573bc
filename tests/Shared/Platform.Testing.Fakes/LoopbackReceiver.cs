using Microsoft.AspNetCore.Http;

namespace Platform.Testing.Fakes;

/// <summary>
/// A loopback HTTP endpoint standing in for the platform's own webhook endpoints (or a third party receiving outbound
/// webhooks): every request is recorded and answered by the handler given.
/// </summary>
public sealed class LoopbackReceiver : FakeServer
{
    private readonly Func<RecordedRequest, Task<FakeResponse>> _handler;

    private LoopbackReceiver(Func<RecordedRequest, Task<FakeResponse>> handler) => _handler = handler;

    /// <summary>Starts a receiver; <paramref name="handler"/> answers every request (default: 200, empty).</summary>
    public static async Task<LoopbackReceiver> StartAsync(Func<RecordedRequest, Task<FakeResponse>>? handler = null)
    {
        var receiver = new LoopbackReceiver(handler ?? (_ => Task.FromResult(new FakeResponse(200, "", "text/plain"))));
        await receiver.StartServerAsync();
        return receiver;
    }

    /// <summary>A URL on this receiver.</summary>
    public Uri Url(string path) => new(BaseUrl, path.TrimStart('/'));

    /// <inheritdoc />
    protected override Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context) => _handler(request);

    /// <inheritdoc />
    protected override FakeResponse TooManyRequests(TimeSpan retryAfter) =>
        new(429, "slow down", "text/plain", new Dictionary<string, string> { ["Retry-After"] = ((int)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <inheritdoc />
    protected override FakeResponse ServerError(int status) => new(status, "receiver failed", "text/plain");
}
