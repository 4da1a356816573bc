global using Platform.Testing.Fakes;
global using Xunit;

namespace Platform.Channels.Tests;

/// <summary>A clock the test sets.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class Http
{
    /// <summary>A client for adapters under test: no own timeout (adapters apply theirs).</summary>
    public static HttpClient Client() => new() { Timeout = Timeout.InfiniteTimeSpan };
}
