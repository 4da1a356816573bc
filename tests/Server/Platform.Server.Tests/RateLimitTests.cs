using System.Net;
using System.Text;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>Abuse limits: 429 with Retry-After per IP on anonymous surfaces and per key on the API (issue 16, M1).</summary>
public sealed class RateLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Answer_429_With_Retry_After_When_A_Client_Passes_Its_Limit()
    {
        using var data = new TempDirectory("platform-rate");
        var settings = PlatformServerFactory.WithKeys(data.Path);
        settings["Platform:RateLimits:Anonymous:TokenLimit"] = "3";
        settings["Platform:RateLimits:Anonymous:TokensPerSecond"] = "1";
        settings["Platform:RateLimits:Api:TokenLimit"] = "5";
        settings["Platform:RateLimits:Api:TokensPerSecond"] = "1";
        await using var factory = new PlatformServerFactory(settings);
        using var anonymous = factory.CreateClient(apiKey: null);
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);

        var webhook = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 8; i++)
        {
            var response = await anonymous.PostAsync("/channels/no-such-channel/webhook", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);
            webhook.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused ??= response;
            else response.Dispose();
        }
        var api = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await admin.GetAsync("/api/channels", Ct);
            api.Add(response.StatusCode);
        }
        using var health = await anonymous.GetAsync("/health", Ct); // not limited

        Assert.Equal(HttpStatusCode.NotFound, webhook[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, webhook);
        Assert.NotNull(refused);
        Assert.True(int.Parse(refused!.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Contains("Platform:RateLimits", problem.Str("detail"));
        refused.Dispose();
        Assert.Equal(HttpStatusCode.OK, api[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, api);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
