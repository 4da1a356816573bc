using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Channels.Webhooks;
using Platform.Server.Observability;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>A server on a real loopback port (Kestrel), so that a real Prometheus can scrape it.</summary>
public sealed class KestrelServerFixture : IAsyncLifetime
{
    private readonly TempDirectory _dataDirectory = new("platform-observability-test");

    /// <summary>The server.</summary>
    public PlatformServerFactory Factory { get; private set; } = null!;

    /// <summary>Its address, such as http://127.0.0.1:41234.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Sends the Admin key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <inheritdoc />
    public ValueTask InitializeAsync()
    {
        var settings = PlatformServerFactory.WithKeys(_dataDirectory.Path);
        settings["Platform:Metrics:SampleInterval"] = "00:00:00.5";
        Factory = new PlatformServerFactory(settings);
        Factory.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        Factory.StartServer();
        var address = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address);
        Admin = Factory.CreateClient(PlatformServerFactory.AdminKey);
        return ValueTask.CompletedTask;
    }

    /// <summary>A client of the real port with this key (none when null).</summary>
    public HttpClient Client(string? apiKey) => Factory.CreateClient(apiKey);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        _dataDirectory.Dispose();
    }
}

/// <summary><c>/metrics</c> read back through a real Prometheus, and the Kubernetes probes <c>/healthz</c> and <c>/readyz</c>.</summary>
public sealed class ObservabilityTests(KestrelServerFixture server) : IClassFixture<KestrelServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Secret = "webhook-secret-for-tests-0123456789";

    private async Task<(string Channel, string DefinitionId)> CreateEchoChannelAsync(Uri outboundUrl)
    {
        var name = "metrics-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = name, ["kind"] = "Webhook",
            ["settings"] = new JsonObject { ["secret"] = Secret, ["outboundUrl"] = outboundUrl.ToString() },
        }, HttpStatusCode.Created);
        var definition = await server.Admin.SaveAsync(Sequence(UniqueName("metrics echo"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", name))),
            Activity("reply", "Platform.SendReply", ("text", Literal("String", "pong")))), publish: true);
        return (name, definition.Str("definitionId"));
    }

    private async Task PostMessageAsync(string channel, string id)
    {
        var body = new JsonObject { ["id"] = id, ["sender"] = new JsonObject { ["id"] = "u-1", ["name"] = "Ada" }, ["text"] = "ping" }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, Secret));
        using var client = server.Client(null);
        using var response = await client.SendAsync(request, Ct);
        Assert.True(response.IsSuccessStatusCode, $"The webhook answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
    }

    [Fact]
    public async Task Should_Read_Our_Series_Back_Through_Prometheus_When_Messages_Were_Exchanged()
    {
        // Arrange
        await using var receiver = await LoopbackReceiver.StartAsync();
        var (channel, definitionId) = await CreateEchoChannelAsync(receiver.Url("/hooks/platform"));
        await using var prometheus = await PrometheusFixture.StartAsync(server.BaseUrl, "/metrics", PlatformServerFactory.OperatorKey, Ct);

        // Act
        for (var i = 0; i < 3; i++) await PostMessageAsync(channel, $"evt-{i}");
        var sent = await prometheus.WaitForValueAsync($"platform_messages_sent_total{{channel=\"{channel}\",outcome=\"sent\"}}", v => v >= 3, Ct);

        // Assert
        Assert.True(sent == 3, $"messages_sent_total is {sent}; targets: {await prometheus.TargetsAsync(Ct)}");
        Assert.Equal(1, await prometheus.ValueAsync("up{job=\"platform\"}", Ct));
        Assert.Equal(3, await prometheus.ValueAsync($"platform_messages_received_total{{channel=\"{channel}\",outcome=\"stored\"}}", Ct));
        Assert.Equal(3, await prometheus.WaitForValueAsync($"platform_message_latency_seconds_count{{channel=\"{channel}\"}}", v => v >= 3, Ct));
        Assert.Equal(3, await prometheus.ValueAsync($"platform_outbox_delivery_seconds_count{{channel=\"{channel}\"}}", Ct));
        Assert.Equal(3, await prometheus.WaitForValueAsync($"sum(platform_workflow_runs_total{{definition=\"{definitionId}\",status=\"Finished\"}})", v => v >= 3, Ct));
        Assert.True(await prometheus.ValueAsync("platform_activity_duration_seconds_count{activity_type=\"Platform.SendReply\"}", Ct) >= 3);
        var p99 = await prometheus.ValueAsync($"histogram_quantile(0.99, sum by (le) (platform_message_latency_seconds_bucket{{channel=\"{channel}\"}}))", Ct);
        Assert.True(p99 is > 0 and < 30, $"P99 of the message latency is {p99}");
        Assert.Equal(0, await prometheus.WaitForValueAsync("platform_inbox_pending", v => v == 0, Ct));
        Assert.NotNull(await prometheus.ValueAsync("platform_outbox_pending", Ct));
        Assert.NotNull(await prometheus.ValueAsync("platform_dead_letters", Ct));
        Assert.NotNull(await prometheus.ValueAsync("platform_hangfire_jobs{state=\"failed\"}", Ct));
        Assert.True(await prometheus.ValueAsync("process_cpu_seconds_total", Ct) > 0);
    }

    [Fact]
    public async Task Should_Answer_401_When_Metrics_Are_Scraped_Without_A_Key_From_Outside_The_Allowed_Networks()
    {
        // Arrange
        using var anonymous = server.Client(null);
        using var operatorClient = server.Client(PlatformServerFactory.OperatorKey);

        // Act
        using var denied = await anonymous.GetAsync("/metrics", Ct);
        using var allowed = await operatorClient.GetAsync("/metrics", Ct);
        var text = await allowed.Content.ReadAsStringAsync(Ct);

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("text/plain", allowed.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE platform_inbox_pending gauge", text);
    }

    [Fact]
    public void Should_Let_Only_Listed_Networks_Scrape_Without_A_Key_When_AllowedNetworks_Is_Set()
    {
        // Arrange
        using var metrics = new PlatformMetrics(Options.Create(new MetricsOptions { AllowedNetworks = ["10.0.0.0/8", "127.0.0.1"] }));

        // Act + Assert
        Assert.True(metrics.IsAllowed(IPAddress.Parse("10.1.2.3")));
        Assert.True(metrics.IsAllowed(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.False(metrics.IsAllowed(IPAddress.Parse("192.168.1.1")));
        Assert.False(metrics.IsAllowed(null));
        var bad = Assert.Throws<InvalidOperationException>(() => new PlatformMetrics(Options.Create(new MetricsOptions { AllowedNetworks = ["not-a-network"] })));
        Assert.Contains("10.0.0.0/8", bad.Message);
    }

    [Fact]
    public async Task Should_Answer_Alive_And_Ready_When_The_Server_Has_Warmed_Up()
    {
        // Arrange
        using var anonymous = server.Client(null);
        await server.Factory.Services.GetRequiredService<Platform.Engine.Runtime.StartupWarmUpService>().Completion.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        // Act
        var alive = await anonymous.GetJsonAsync("/healthz");
        var ready = await anonymous.GetJsonAsync("/readyz");

        // Assert
        Assert.Equal("Alive", alive.Str("status"));
        Assert.Equal("Ready", ready.Str("status"));
        Assert.Equal("Ok", ready["checks"]!["database"].Str("status"));
        Assert.Equal("Ok", ready["checks"]!["warmUp"].Str("status"));
        Assert.NotNull(ready["checks"]!["broker"]);
        Assert.NotNull(ready["checks"]!["channels"]);
    }
}
