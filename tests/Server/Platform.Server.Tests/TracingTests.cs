using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Platform.Channels.Webhooks;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>A server with tracing on and the OpenTelemetry in-memory exporter.</summary>
public sealed class TracingServerFixture : IAsyncLifetime
{
    private readonly TempDirectory _dataDirectory = new("platform-tracing-test");
    private readonly List<Activity> _spans = [];

    /// <summary>The server.</summary>
    public PlatformServerFactory Factory { get; private set; } = null!;

    /// <summary>Sends the Admin key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>The spans exported so far (every host in the test process shares the static sources: filter by trace id).</summary>
    public IReadOnlyList<Activity> Spans
    {
        get { lock (_spans) return [.. _spans]; }
    }

    /// <inheritdoc />
    public ValueTask InitializeAsync()
    {
        var settings = PlatformServerFactory.WithKeys(_dataDirectory.Path);
        settings["Platform:Tracing:Enabled"] = "true";
        Factory = new PlatformServerFactory(settings)
        {
            ConfigureTestServices = s => s.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(new Locked(_spans))),
        };
        Admin = Factory.CreateClient(PlatformServerFactory.AdminKey);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        _dataDirectory.Dispose();
    }

    // The exporter adds from the threads that end spans.
    private sealed class Locked(List<Activity> inner) : ICollection<Activity>
    {
        public int Count { get { lock (inner) return inner.Count; } }
        public bool IsReadOnly => false;
        public void Add(Activity item) { lock (inner) inner.Add(item); }
        public void Clear() { lock (inner) inner.Clear(); }
        public bool Contains(Activity item) { lock (inner) return inner.Contains(item); }
        public void CopyTo(Activity[] array, int arrayIndex) { lock (inner) inner.CopyTo(array, arrayIndex); }
        public bool Remove(Activity item) { lock (inner) return inner.Remove(item); }
        public IEnumerator<Activity> GetEnumerator() { lock (inner) return inner.ToList().GetEnumerator(); }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

/// <summary>One webhook message's trace: inbound HTTP → inbox → burst → activities → outbox → outbound webhook.</summary>
public sealed class TracingTests(TracingServerFixture server) : IClassFixture<TracingServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Secret = "webhook-secret-for-tracing-0123456789";

    [Fact]
    public async Task Should_Export_One_Span_Tree_From_The_Inbound_Request_To_The_Outbound_Webhook_When_Tracing_Is_On()
    {
        // Arrange
        await using var receiver = await LoopbackReceiver.StartAsync();
        var channel = "trace-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = channel, ["kind"] = "Webhook",
            ["settings"] = new JsonObject { ["secret"] = Secret, ["outboundUrl"] = receiver.Url("/hooks/platform").ToString() },
        }, HttpStatusCode.Created);
        await server.Admin.SaveAsync(Sequence(UniqueName("traced echo"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("reply", "Platform.SendReply", ("text", Literal("String", "traced")))), publish: true);
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        var body = new JsonObject { ["id"] = "evt-trace-1", ["sender"] = new JsonObject { ["id"] = "u-1" }, ["text"] = "hello" }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, Secret));
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        using var client = server.Factory.CreateClient(apiKey: null);

        // Act
        using var response = await client.SendAsync(request, Ct);
        var until = DateTime.UtcNow.AddSeconds(20);
        List<Activity> spans = [];
        while (DateTime.UtcNow < until)
        {
            spans = [.. server.Spans.Where(s => s.TraceId == traceId)];
            if (receiver.Requests.Count > 0 && spans.Any(s => s.DisplayName == "outbox deliver")) break;
            await Task.Delay(100, Ct);
        }

        // Assert
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var byId = spans.ToDictionary(s => s.SpanId);
        Activity Parent(Activity s) => byId.TryGetValue(s.ParentSpanId, out var p) ? p : throw new Xunit.Sdk.XunitException(
            $"Span '{s.DisplayName}' has parent {s.ParentSpanId}, not among the exported spans: {string.Join(", ", spans.Select(x => x.DisplayName))}");
        bool Below(Activity s, Activity ancestor)
        {
            for (var current = s; byId.ContainsKey(current.ParentSpanId); current = byId[current.ParentSpanId])
                if (current.ParentSpanId == ancestor.SpanId) return true;
            return false;
        }

        var inbound = Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.ParentSpanId == callerSpan);
        var receive = Assert.Single(spans, s => s.DisplayName == "inbox receive");
        Assert.Equal(inbound.SpanId, Parent(receive).SpanId);
        var process = Assert.Single(spans, s => s.DisplayName == "inbox process");
        Assert.Equal(receive.SpanId, Parent(process).SpanId);
        var burst = Assert.Single(spans, s => s.DisplayName == "workflow burst");
        Assert.True(Below(burst, process), "the workflow burst runs inside the inbox processing span");
        var activities = spans.Where(s => s.OperationName == "activity" && s.Source.Name == "Platform.Engine").ToList();
        Assert.True(activities.Count >= 2, $"a span per activity, got {activities.Count}");
        Assert.All(activities, a => Assert.Equal(burst.SpanId, Parent(a).SpanId));
        Assert.Contains(spans, s => s.Source.Name == "OpenTelemetry.Instrumentation.EntityFrameworkCore" && Below(s, process));
        var deliver = Assert.Single(spans, s => s.DisplayName == "outbox deliver");
        Assert.True(Below(deliver, process), "the delivery continues the message's trace");
        var outbound = Assert.Single(spans, s => s.Kind == ActivityKind.Client && s.Source.Name.StartsWith("System.Net.Http", StringComparison.Ordinal) && Below(s, deliver));
        var delivery = Assert.Single(receiver.Requests);
        Assert.Equal($"00-{traceId}-{outbound.SpanId}-01", delivery.Header("traceparent"));
    }

    [Fact]
    public async Task Should_ContinueTheMessagesTrace_When_APendingReplyIsDeliveredByAnotherNodeOrAfterARestart()
    {
        // Arrange: a reply row written by a burst of a traced message, never handed to this node's dispatcher (as after a
        // kill -9, or when another node wrote it): the poller takes it up and continues the stored trace.
        await using var receiver = await LoopbackReceiver.StartAsync();
        var channel = "trace-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = channel, ["kind"] = "Webhook",
            ["settings"] = new JsonObject { ["secret"] = Secret, ["outboundUrl"] = receiver.Url("/hooks/platform").ToString() },
        }, HttpStatusCode.Created);
        var traceId = ActivityTraceId.CreateRandom();
        var writer = ActivitySpanId.CreateRandom();
        var now = DateTimeOffset.UtcNow;
        var message = new Platform.Engine.Models.OutboxMessage
        {
            Id = Guid.CreateVersion7().ToString("N"), Channel = channel, ConversationKey = $"webhook:{channel}:u-9",
            Payload = new Platform.Channels.OutgoingEnvelope { Text = "after the restart", To = "u-9" }.ToJson(), CreatedAt = now,
            NextAttemptAt = now, TraceParent = $"00-{traceId}-{writer}-01",
        };

        // Act
        await server.Factory.Services.GetRequiredService<Platform.Engine.Contracts.IOutboxStore>().AddAsync([message], Ct);
        var until = DateTime.UtcNow.AddSeconds(30);
        Activity? deliver = null;
        while (DateTime.UtcNow < until && deliver is null)
        {
            deliver = server.Spans.FirstOrDefault(s => s.DisplayName == "outbox deliver" && s.TraceId == traceId);
            if (deliver is null) await Task.Delay(100, Ct);
        }

        // Assert
        Assert.NotNull(deliver);
        Assert.Equal(writer, deliver.ParentSpanId);
        var delivery = Assert.Single(receiver.Requests);
        Assert.StartsWith($"00-{traceId}-", delivery.Header("traceparent"));
    }

    [Fact]
    public async Task Should_GiveEachWebChatMessageATraceOfItsOwn_When_ItArrivesOnAnOpenSocket()
    {
        // Arrange
        var channel = "trace-chat-" + Guid.NewGuid().ToString("N")[..8];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = channel, ["kind"] = "WebChat", ["settings"] = new JsonObject() },
            HttpStatusCode.Created);
        await server.Admin.SaveAsync(Sequence(UniqueName("traced chat"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("reply", "Platform.SendReply", ("text", Literal("String", "traced chat")))), publish: true);
        await using var chat = await WebChatClient.ConnectAsync(server.Factory, channel);

        // Act
        Assert.Equal("traced chat", await chat.AskAsync("first"));
        Assert.Equal("traced chat", await chat.AskAsync("second"));
        var until = DateTime.UtcNow.AddSeconds(20);
        List<Activity> messages = [];
        while (DateTime.UtcNow < until)
        {
            messages = [.. server.Spans.Where(s => s.DisplayName == "webchat message" && Equals(s.GetTagItem("messaging.channel"), channel))];
            if (messages.Count == 2 && messages.All(m => server.Spans.Any(s => s.DisplayName == "outbox deliver" && s.TraceId == m.TraceId))) break;
            await Task.Delay(100, Ct);
        }

        // Assert: two traces (not one per socket), each from the message through its inbox row to its reply's delivery,
        // each linked to the socket's request span.
        Assert.Equal(2, messages.Count);
        Assert.NotEqual(messages[0].TraceId, messages[1].TraceId);
        Assert.All(messages, m =>
        {
            Assert.Equal(default, m.ParentSpanId);
            Assert.Equal(ActivityKind.Server, m.Kind);
            Assert.Single(m.Links);
            var receive = Assert.Single(server.Spans, s => s.DisplayName == "inbox receive" && s.TraceId == m.TraceId);
            Assert.Equal(m.SpanId, receive.ParentSpanId);
            Assert.Contains(server.Spans, s => s.DisplayName == "outbox deliver" && s.TraceId == m.TraceId);
        });
    }
}
