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
        Assert.NotNull(await prometheus.WaitForValueAsync("platform_outbox_pending", _ => true, Ct)); // gauges appear with the sampler's next read
        Assert.NotNull(await prometheus.WaitForValueAsync("platform_dead_letters", _ => true, Ct)); // gauges appear with the sampler's next read
        Assert.NotNull(await prometheus.WaitForValueAsync("platform_hangfire_jobs{state=\"failed\"}", _ => true, Ct)); // gauges appear with the sampler's next read
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

/// <summary>The cost of recording on the message path while /metrics listens.</summary>
public sealed class MetricsHotPathTests
{
    [Fact]
    public void Should_Allocate_Nothing_Per_Measurement_When_Metrics_Are_Exported()
    {
        // Arrange: the same shapes the message path records (a counter with channel and outcome, a histogram with channel).
        using var metrics = new PlatformMetrics(Options.Create(new MetricsOptions()));
        using var meter = new System.Diagnostics.Metrics.Meter(Platform.Engine.Runtime.EngineTelemetry.MeterName);
        var counter = meter.CreateCounter<long>("hot_path_test_total");
        var histogram = meter.CreateHistogram<double>("hot_path_test_seconds", "s");
        var channel = "chan-" + Guid.NewGuid().ToString("N")[..6];
        void Record()
        {
            counter.Add(1, new KeyValuePair<string, object?>("channel", channel), new KeyValuePair<string, object?>("outcome", "sent"));
            histogram.Record(0.012, new KeyValuePair<string, object?>("channel", channel));
        }
        for (var i = 0; i < 1000; i++) Record(); // the series exist now

        // Act
        const int n = 100_000;
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = 0; i < n; i++) Record();
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        bytes = GC.GetAllocatedBytesForCurrentThread() - bytes;

        // Assert: nothing allocated per measurement (the deterministic part). The time is wall-clock on a shared machine, so
        // only a pathology fails it: a message records about six measurements and takes milliseconds.
        var perMeasurementNs = elapsed.TotalMilliseconds * 1e6 / n;
        TestContext.Current.SendDiagnosticMessage($"{bytes / (double)n:F1} bytes and {perMeasurementNs:F0} ns per counter + histogram pair");
        Assert.True(bytes / (double)n < 8, $"{bytes / (double)n:F1} bytes allocated per measurement pair");
        Assert.True(perMeasurementNs < 200_000, $"{perMeasurementNs:F0} ns per measurement pair");
        var text = ExportText(metrics);
        Assert.Contains($"platform_hot_path_test_total{{channel=\"{channel}\",outcome=\"sent\"}} {n + 1000}", text);
    }

    private static string ExportText(PlatformMetrics metrics)
    {
        using var stream = new MemoryStream();
        metrics.Registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

/// <summary><c>Logging:Format=json</c>: one JSON object per line with the trace and the message's conversation, instance and channel.</summary>
public sealed class JsonLogFormatterTests
{
    [Fact]
    public void Should_Write_One_Json_Object_With_Trace_And_Message_Fields_When_A_Span_Is_Active()
    {
        // Arrange
        var formatter = new JsonLogFormatter();
        var scopes = new Microsoft.Extensions.Logging.LoggerExternalScopeProvider();
        using var source = new System.Diagnostics.ActivitySource("json-log-test-" + Guid.NewGuid().ToString("N"));
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var span = source.StartActivity("test")!;
        using var scope = scopes.Push(new Dictionary<string, object?> { ["Conversation"] = "web:chat:c-1" });
        var state = new Dictionary<string, object?> { ["InstanceId"] = "inst-1", ["Channel"] = "chat", ["{OriginalFormat}"] = "Started {InstanceId} on {Channel}" };
        var entry = new Microsoft.Extensions.Logging.Abstractions.LogEntry<Dictionary<string, object?>>(
            Microsoft.Extensions.Logging.LogLevel.Warning, "Platform.Test", new Microsoft.Extensions.Logging.EventId(7), state, new InvalidOperationException("boom"),
            (_, _) => "Started inst-1 on chat");
        using var writer = new StringWriter();

        // Act
        formatter.Write(entry, scopes, writer);

        // Assert
        var text = writer.ToString();
        Assert.EndsWith("\n", text);
        Assert.Single(text.TrimEnd('\n').Split('\n'));
        var json = JsonNode.Parse(text)!;
        Assert.Equal("warn", json.Str("level"));
        Assert.Equal("Platform.Test", json.Str("category"));
        Assert.Equal("Started inst-1 on chat", json.Str("message"));
        Assert.Equal(span.TraceId.ToHexString(), json.Str("trace_id"));
        Assert.Equal(span.SpanId.ToHexString(), json.Str("span_id"));
        Assert.Equal("web:chat:c-1", json.Str("conversation"));
        Assert.Equal("inst-1", json.Str("instance"));
        Assert.Equal("chat", json.Str("channel"));
        Assert.Contains("boom", json.Str("exception"));
        Assert.True(DateTimeOffset.TryParse(json.Str("timestamp"), out _));
    }
}
