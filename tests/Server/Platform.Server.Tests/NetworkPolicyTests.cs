using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Server.Security;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>Network policy (issue 16, part 5): management allow list, forwarded headers only from known proxies, web chat socket caps.</summary>
public sealed class NetworkPolicyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The in-memory server has no client address; every request comes from 127.0.0.1 here, like a proxy on the same machine.</summary>
    private static WebApplicationFactory<Program> FromLoopback(PlatformServerFactory factory) =>
        factory.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new LoopbackClient())));

    private sealed class LoopbackClient : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Loopback;
                return following(context);
            });
            next(app);
        };
    }

    private static HttpClient Client(WebApplicationFactory<Program> app, string? key, string? forwardedFor = null)
    {
        var client = app.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", key);
        if (forwardedFor is not null) client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return client;
    }

    [Fact]
    public async Task Should_Refuse_The_Management_Surface_With_403_Naming_The_Setting_When_The_Client_Is_Not_In_The_Allow_List()
    {
        using var data = new TempDirectory("platform-net-allow");
        var settings = PlatformServerFactory.WithKeys(data.Path);
        settings["Platform:Network:ManagementAllowList"] = "203.0.113.0/24, 10.0.0.0/8";
        await using var factory = new PlatformServerFactory(settings);
        await using var app = FromLoopback(factory);
        using var admin = Client(app, PlatformServerFactory.AdminKey);

        using var api = await admin.GetAsync("/api/channels", Ct);
        var problem = await api.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("Platform:Network:ManagementAllowList", problem.Str("detail"));
        Assert.Contains("127.0.0.1", problem.Str("detail"));
        foreach (var path in new[] { "/elsa/api/workflow-definitions", "/workflows/definitions", "/hangfire", "/metrics", "/audit" })
        {
            using var page = await admin.GetAsync(path, Ct);
            Assert.True(page.StatusCode == HttpStatusCode.Forbidden, $"{path} answered {(int)page.StatusCode}");
        }
        using var health = await admin.GetAsync("/health", Ct); // probes and public surfaces stay open
        Assert.NotEqual(HttpStatusCode.Forbidden, health.StatusCode);
        using var chat = await admin.GetAsync("/chat/widget.js", Ct);
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }

    [Fact]
    public async Task Should_Use_The_Forwarded_Client_Address_When_The_Proxy_Is_Known_And_Not_When_It_Is_Unknown()
    {
        using var data = new TempDirectory("platform-net-proxy");
        var known = PlatformServerFactory.WithKeys(data.Path);
        known["Platform:Network:ManagementAllowList"] = "203.0.113.0/24";
        known["Platform:Network:KnownProxies"] = "127.0.0.1";
        await using (var factory = new PlatformServerFactory(known))
        {
            await using var app = FromLoopback(factory);
            using var allowed = Client(app, PlatformServerFactory.AdminKey, "203.0.113.9");
            using var ok = await allowed.GetAsync("/api/channels", Ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            using var outsider = Client(app, PlatformServerFactory.AdminKey, "198.51.100.4");
            using var refused = await outsider.GetAsync("/api/channels", Ct);
            Assert.Contains("198.51.100.4", (await refused.AssertProblemAsync(HttpStatusCode.Forbidden)).Str("detail"));
            // The audit trail records the client's address, not the proxy's.
            using var badKey = Client(app, "wrong-key-from-behind-the-proxy", "203.0.113.9");
            using var unauthorized = await badKey.GetAsync("/api/channels", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
            await app.Services.GetRequiredService<AuditLogWriter>().FlushAsync(Ct);
            var failures = await app.Services.GetRequiredService<Platform.Activities.IAuditLogStore>()
                .QueryAsync(new Platform.Activities.AuditQuery { Action = AuditMiddleware.AuthFailedAction }, Ct);
            Assert.Equal("203.0.113.9", Assert.Single(failures).IpAddress);
        }

        using var data2 = new TempDirectory("platform-net-proxy-unknown");
        var unknown = PlatformServerFactory.WithKeys(data2.Path);
        unknown["Platform:Network:ManagementAllowList"] = "203.0.113.0/24";
        unknown["Platform:Network:KnownProxies"] = "10.9.9.9"; // not the proxy the request comes through
        await using (var factory = new PlatformServerFactory(unknown))
        {
            await using var app = FromLoopback(factory);
            using var spoofed = Client(app, PlatformServerFactory.AdminKey, "203.0.113.9");
            using var refused = await spoofed.GetAsync("/api/channels", Ct);
            Assert.Contains("127.0.0.1", (await refused.AssertProblemAsync(HttpStatusCode.Forbidden)).Str("detail"));
        }
    }

    [Fact]
    public async Task Should_Refuse_A_Chat_Socket_With_429_When_The_Address_Has_As_Many_Open_As_Allowed()
    {
        using var data = new TempDirectory("platform-net-sockets");
        var settings = PlatformServerFactory.WithKeys(data.Path);
        settings["Platform:Sockets:MaxPerIp"] = "2";
        await using var factory = new PlatformServerFactory(settings);
        await using var app = FromLoopback(factory);
        var server = ((WebApplicationFactory<Program>)app).Server;
        var uri = new Uri(server.BaseAddress, "/ws/chat?channel=web");

        using var first = await server.CreateWebSocketClient().ConnectAsync(uri, Ct);
        using var second = await server.CreateWebSocketClient().ConnectAsync(uri, Ct);
        var third = await Assert.ThrowsAnyAsync<Exception>(() => server.CreateWebSocketClient().ConnectAsync(uri, Ct));
        Assert.Contains("429", third.Message);
        Assert.Equal(2, app.Services.GetRequiredService<SocketLimits>().Open);

        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", Ct);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (app.Services.GetRequiredService<SocketLimits>().Open > 1 && DateTime.UtcNow < deadline) await Task.Delay(20, Ct);
        using var again = await server.CreateWebSocketClient().ConnectAsync(uri, Ct); // a place is free again
        Assert.Equal(WebSocketState.Open, again.State);
    }
}
