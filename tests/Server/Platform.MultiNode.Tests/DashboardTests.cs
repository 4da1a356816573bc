using System.Net;
using Platform.MultiNode.Tests.Infrastructure;
using Platform.Server.Extensions;
using Platform.Testing;

namespace Platform.MultiNode.Tests;

/// <summary>The Hangfire Dashboard at /hangfire is behind the platform's API keys: admins act, operators only read.</summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("multinode-dashboard");
    private ServerNode _node = null!;

    public async ValueTask InitializeAsync() => _node = await ServerNode.StartAsync("dashboard", _temp.CreateSubdirectory("data"));

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        _temp.Dispose();
    }

    private HttpClient Browser(CookieContainer? cookies = null) => new(new HttpClientHandler
        { AllowAutoRedirect = false, CookieContainer = cookies ?? new CookieContainer(), UseCookies = true })
        { BaseAddress = _node.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Should_Answer_401_With_Sign_In_Page_When_Anonymous()
    {
        using var browser = Browser();

        using var page = await browser.GetAsync("/hangfire");
        using var wrongKey = await browser.GetAsync("/hangfire?key=not-a-key-at-all-0000");
        using var api = await browser.GetAsync("/hangfire/stats");

        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
        Assert.Contains("name=\"key\"", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Empty(wrongKey.Headers.TryGetValues("Set-Cookie", out var set) ? set : []);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task Should_Set_HttpOnly_Strict_Cookie_And_Show_Dashboard_When_Admin_Signs_In()
    {
        await _node.Admin.PublishAsync(Api.WithCron($"yearly {Guid.NewGuid():N}", "0 0 1 1 *"));
        var cookies = new CookieContainer();
        using var browser = Browser(cookies);

        using var signIn = await browser.GetAsync($"/hangfire?key={ServerNode.AdminKey}");
        using var dashboard = await browser.GetAsync("/hangfire");
        using var recurring = await browser.GetAsync("/hangfire/recurring");

        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/hangfire", signIn.Headers.Location!.OriginalString);
        var setCookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(SchedulingHostExtensions.DashboardCookie + "=", setCookie);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("Hangfire", await dashboard.Content.ReadAsStringAsync());
        var page = await recurring.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, recurring.StatusCode);
        Assert.Contains("js-jobs-list-command", page); // admins get the Trigger/Delete buttons
    }

    [Fact]
    public async Task Should_Show_Dashboard_Read_Only_When_Operator_Key_Is_Used()
    {
        await _node.Admin.PublishAsync(Api.WithCron($"yearly {Guid.NewGuid():N}", "0 0 1 1 *"));
        using var browser = Browser();
        browser.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", ServerNode.OperatorKey);

        using var recurring = await browser.GetAsync("/hangfire/recurring");
        using var trigger = await browser.PostAsync("/hangfire/recurring/trigger", new FormUrlEncodedContent([new("jobs[]", "none")]));

        Assert.Equal(HttpStatusCode.OK, recurring.StatusCode);
        Assert.DoesNotContain("js-jobs-list-command", await recurring.Content.ReadAsStringAsync());
        Assert.NotEqual(HttpStatusCode.OK, trigger.StatusCode);
        Assert.NotEqual(HttpStatusCode.NoContent, trigger.StatusCode);
    }
}
