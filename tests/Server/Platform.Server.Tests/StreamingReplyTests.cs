using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Platform.Channels.Webhooks;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>A server whose Ask Model talks to a loopback OpenAI fake (streaming and typing tests).</summary>
public sealed class StreamingServerFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("platform-streaming-test");

    public FakeOpenAiServer Model { get; private set; } = null!;
    public PlatformServerFactory Factory { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Model = await FakeOpenAiServer.StartAsync();
        var settings = PlatformServerFactory.WithKeys(_data.Path);
        settings["Platform:AI:Embeddings:Enabled"] = "false";
        settings["Platform:AI:ChatCompletion:Endpoint"] = Model.ApiBase.ToString();
        settings["Platform:AI:ChatCompletion:Model"] = "gpt-4o-mini";
        settings["Platform:AI:ChatCompletion:ApiKey"] = Model.ApiKey;
        Factory = new PlatformServerFactory(settings);
        Admin = Factory.CreateClient(PlatformServerFactory.AdminKey);
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        if (Model is not null) await Model.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>
/// Streamed replies (issue #19): Ask Model streams into the web chat as partial frames, the final reply still comes once
/// through the outbox and replaces the partial by id; channels without streaming get only the final reply; Telegram shows
/// "typing" while the model works; a model that dies mid-answer leaves no half reply.
/// </summary>
public sealed class StreamingReplyTests(StreamingServerFixture server) : IClassFixture<StreamingServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Sorry = "Sorry, the assistant cannot answer right now.";
    private const string Secret = "streaming-webhook-secret-0123456789";

    private static JsonObject Js(string script) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script },
    };

    /// <summary>received → Ask Model → Send Reply(answer); Ask Model's Failed → Send Reply(sorry).</summary>
    private async Task PublishAskWorkflowAsync(string channel)
    {
        var model = Sequence(UniqueName("streamed answer"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("ask", "Platform.AskModel", ("system", Literal("String", "You are the shop assistant."))),
            Activity("reply", "Platform.SendReply", ("text", Js("getOutput('ask', 'Answer')"))));
        model["root"]!["activities"]!.AsArray().Add(Activity("sorry", "Platform.SendReply", ("text", Literal("String", Sorry))));
        model["root"]!["connections"]!.AsArray().Add(Connect("ask", "sorry", "Failed"));
        await server.Admin.SaveAsync(model, publish: true);
    }

    private async Task<string> CreateChannelAsync(string kind, JsonObject settings)
    {
        var name = "stream-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = kind, ["settings"] = settings }, HttpStatusCode.Created);
        return name;
    }

    private async Task<Socket> ConnectAsync(string channel)
    {
        var socket = await server.Factory.Server.CreateWebSocketClient().ConnectAsync(new Uri($"ws://localhost/ws/chat?channel={channel}"), Ct);
        var chat = new Socket(socket);
        await chat.UntilAsync("welcome");
        return chat;
    }

    private async Task<JsonArray> OutboxAsync(string channel) =>
        (await server.Admin.GetJsonAsync($"/api/messages/outbox?channel={channel}"))["items"]!.AsArray();

    [Fact]
    public async Task Should_Stream_Partial_Frames_Then_Replace_Them_With_The_Final_Reply_When_The_Channel_Is_A_Web_Chat()
    {
        // Arrange: the model writes nine words, one chunk every 120 ms.
        const string answer = "The kitchen light is on and the heating runs.";
        server.Model.Answer = m => m.Last()!["content"]!.ToString() == "and now?" ? "Second answer." : answer;
        server.Model.StreamChunkDelay = TimeSpan.FromMilliseconds(120);
        server.Model.FailStreamAfterDeltas = null;
        var channel = await CreateChannelAsync("WebChat", new JsonObject());
        await PublishAskWorkflowAsync(channel);
        await using var chat = await ConnectAsync(channel);

        // Act
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "q1", ["text"] = "what is on?" });
        var frames = await chat.UntilAsync("message");
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "q2", ["text"] = "and now?" });
        var next = await chat.UntilAsync("message");

        // Assert: several partial frames, each the text so far, all before the final message that replaces them.
        var partials = frames.Where(f => f.Str("type") == "partial").ToList();
        Assert.True(partials.Count >= 3, $"expected several partial frames, got: {string.Join(" | ", frames.Select(f => f.ToJsonString()))}");
        var id = partials[0].Str("id");
        Assert.All(partials, p => Assert.Equal(id, p.Str("id")));
        Assert.All(partials, p => Assert.Null(p["discarded"]));
        for (var i = 1; i < partials.Count; i++) Assert.StartsWith(partials[i - 1].Str("text"), partials[i].Str("text"));
        Assert.Equal(answer, partials[^1].Str("text"));
        var final = frames[^1];
        Assert.Equal(answer, final.Str("text"));
        Assert.Equal(id, final.Str("replaces"));
        // Exactly once: the next frame of type message is the second answer, and the outbox holds one reply per question.
        Assert.Equal("Second answer.", next[^1].Str("text"));
        Assert.DoesNotContain(next, f => f.Str("type") == "message" && f.Str("text") == answer);
        var outbox = await OutboxAsync(channel);
        Assert.Equal(2, outbox.Count);
        Assert.Single(outbox, m => m!.ToJsonString().Contains("kitchen light", StringComparison.Ordinal));
        // The request really streamed, with the usage chunk asked for or not, as the client chose.
        Assert.Contains(server.Model.Requests, r => r.Json?["stream"]?.GetValue<bool>() == true);
    }

    [Fact]
    public async Task Should_Send_Only_The_Final_Reply_When_The_Channel_Cannot_Stream()
    {
        // Arrange: a webhook channel posting replies to a loopback receiver.
        await using var receiver = await LoopbackReceiver.StartAsync(_ => Task.FromResult(new FakeResponse(200, "{}")));
        server.Model.Answer = _ => "Only the final answer.";
        server.Model.StreamChunkDelay = TimeSpan.Zero;
        server.Model.FailStreamAfterDeltas = null;
        var channel = await CreateChannelAsync("Webhook", new JsonObject { ["secret"] = Secret, ["outboundUrl"] = receiver.Url("/hooks").ToString() });
        await PublishAskWorkflowAsync(channel);
        var before = server.Model.Requests.Count;

        // Act
        var body = new JsonObject { ["id"] = "evt-" + Guid.NewGuid().ToString("N")[..8], ["sender"] = new JsonObject { ["id"] = "u-1" }, ["text"] = "hello" }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, Secret));
        using var client = server.Factory.CreateClient(apiKey: null);
        using var response = await client.SendAsync(request, Ct);
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!receiver.Requests.Any(r => r.Json?["text"] is not null) && DateTime.UtcNow < until) await Task.Delay(50, Ct);

        // Assert: one delivery with the whole answer; the model was asked without streaming.
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var delivered = Assert.Single(receiver.Requests, r => r.Json?["text"] is not null);
        Assert.Equal("Only the final answer.", delivered.Json!["text"]!.GetValue<string>());
        var asked = Assert.Single(server.Model.Requests.Skip(before));
        Assert.NotEqual(true, asked.Json?["stream"]?.GetValue<bool>());
    }

    [Fact]
    public async Task Should_Discard_The_Partial_And_Reply_Clearly_When_The_Model_Fails_Mid_Stream()
    {
        // Arrange: the model server dies after three words.
        server.Model.Answer = _ => "This answer will never be finished by the model server.";
        server.Model.StreamChunkDelay = TimeSpan.FromMilliseconds(80);
        server.Model.FailStreamAfterDeltas = 3;
        var channel = await CreateChannelAsync("WebChat", new JsonObject());
        await PublishAskWorkflowAsync(channel);
        await using var chat = await ConnectAsync(channel);

        try
        {
            // Act
            await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "f1", ["text"] = "tell me" });
            var frames = await chat.UntilAsync("message");

            // Assert: partial frames, then the partial is discarded, then the clear reply (which replaces nothing).
            var partials = frames.Where(f => f.Str("type") == "partial").ToList();
            Assert.NotEmpty(partials);
            Assert.True(partials[^1]["discarded"]?.GetValue<bool>() == true, string.Join(" | ", frames.Select(f => f.ToJsonString())));
            Assert.Equal(Sorry, frames[^1].Str("text"));
            Assert.Null(frames[^1]["replaces"]);
            var outbox = await OutboxAsync(channel);
            var only = Assert.Single(outbox);
            Assert.DoesNotContain("never be finished", only!.ToJsonString(), StringComparison.Ordinal);
        }
        finally
        {
            server.Model.FailStreamAfterDeltas = null;
        }
    }

    [Fact]
    public async Task Should_Show_Typing_On_Telegram_While_The_Model_Is_Slow()
    {
        // Arrange: the model takes five seconds (Telegram's indicator lasts five, so it is sent again every four).
        await using var telegram = await FakeTelegramServer.StartAsync();
        server.Model.Answer = _ => "Here you are.";
        server.Model.StreamChunkDelay = TimeSpan.Zero;
        server.Model.FailStreamAfterDeltas = null;
        server.Model.DelayNext(1, TimeSpan.FromSeconds(5));
        var channel = await CreateChannelAsync("Telegram", new JsonObject
        {
            ["botToken"] = telegram.BotToken, ["webhookSecretToken"] = "tg-secret-token-for-tests", ["apiBaseUrl"] = telegram.BaseUrl.ToString(),
        });
        await PublishAskWorkflowAsync(channel);

        // Act
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/telegram/webhook")
        {
            Content = new StringContent(TelegramPayloads.TextMessage(1, 4242, 77, "what is on?").ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "tg-secret-token-for-tests");
        using var response = await server.Factory.CreateClient().SendAsync(request, Ct);
        var until = DateTime.UtcNow.AddSeconds(40);
        while (telegram.SentMessages.Count == 0 && DateTime.UtcNow < until) await Task.Delay(50, Ct);

        // Assert: typing actions for the chat came before the reply, and were repeated while the model worked.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Here you are.", Assert.Single(telegram.SentMessages).PlainText);
        var methods = telegram.Requests.Select(r => r.Path.Split('/')[^1]).ToList();
        var reply = methods.IndexOf("sendMessage");
        var typingBefore = telegram.Requests.Take(reply).Where(r => r.Path.EndsWith("/sendChatAction", StringComparison.Ordinal)).ToList();
        Assert.True(typingBefore.Count >= 2, $"requests: {string.Join(", ", methods)}");
        Assert.All(typingBefore, r => Assert.Equal(200, r.ResponseStatus));
        Assert.All(telegram.ChatActionsSent, a => Assert.Equal(("4242", "typing"), (a.ChatId, a.Action)));
    }

    /// <summary>A chat socket that collects every frame (but ping) up to the one wanted.</summary>
    private sealed class Socket(WebSocket socket) : IAsyncDisposable
    {
        public Task SendAsync(JsonObject frame) =>
            socket.SendAsync(Encoding.UTF8.GetBytes(frame.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, Ct);

        /// <summary>The frames received up to and including the next one of <paramref name="type"/> (typing and ping left out).</summary>
        public async Task<List<JsonObject>> UntilAsync(string type)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var frames = new List<JsonObject>();
            var buffer = new byte[64 * 1024];
            while (true)
            {
                using var text = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    try { result = await socket.ReceiveAsync(buffer, timeout.Token); }
                    catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
                    {
                        throw new TimeoutException($"No '{type}' frame within 30 s; seen: {string.Join(" | ", frames.Select(f => f.ToJsonString()))}");
                    }
                    if (result.MessageType == WebSocketMessageType.Close) Assert.Fail("The server closed the chat socket.");
                    text.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);
                var frame = JsonNode.Parse(Encoding.UTF8.GetString(text.ToArray()))!.AsObject();
                var kind = frame["type"]?.GetValue<string>();
                if (kind is "typing" or "ping" or "delivered") continue;
                frames.Add(frame);
                if (kind == type) return frames;
            }
        }

        public ValueTask DisposeAsync() => WebChatClient.CloseQuietlyAsync(socket);
    }
}
