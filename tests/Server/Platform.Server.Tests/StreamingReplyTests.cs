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
        // Named models (issue #19): "named" is the fake; "down" listens nowhere and falls back to "named".
        settings["Platform:AI:Models:named:Endpoint"] = Model.ApiBase.ToString();
        settings["Platform:AI:Models:named:Model"] = "gpt-4o-mini";
        settings["Platform:AI:Models:named:ApiKey"] = Model.ApiKey;
        settings["Platform:AI:Models:named:Retries"] = "0";
        settings["Platform:AI:Models:down:Endpoint"] = $"http://127.0.0.1:{ClosedPort()}/v1";
        settings["Platform:AI:Models:down:Model"] = "gpt-4o-mini";
        settings["Platform:AI:Models:down:Retries"] = "1";
        settings["Platform:AI:Models:down:RetryDelay"] = "00:00:00.010";
        settings["Platform:AI:Models:down:Fallback"] = "named";
        Factory = new PlatformServerFactory(settings);
        Admin = Factory.CreateClient(PlatformServerFactory.AdminKey);
    }

    private static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
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

    /// <summary>received → Ask Model → Send Reply(answer); Ask Model's Failed → Send Reply(sorry). Returns the definition id.</summary>
    private async Task<string> PublishAskWorkflowAsync(string channel, string? modelName = null)
    {
        var ask = Activity("ask", "Platform.AskModel", ("system", Literal("String", "You are the shop assistant.")));
        if (modelName is not null) ask["model"] = Literal("String", modelName);
        var model = Sequence(UniqueName("streamed answer"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            ask,
            Activity("reply", "Platform.SendReply", ("text", Js("getOutput('ask', 'Answer')"))));
        model["root"]!["activities"]!.AsArray().Add(Activity("sorry", "Platform.SendReply", ("text", Literal("String", Sorry))));
        model["root"]!["connections"]!.AsArray().Add(Connect("ask", "sorry", "Failed"));
        return (await server.Admin.SaveAsync(model, publish: true)).Str("definitionId");
    }

    /// <summary>received → AI Agent (tool get_device_state) → Send Reply(answer); Failed → Send Reply(sorry).</summary>
    private async Task PublishAgentWorkflowAsync(string channel)
    {
        var model = Sequence(UniqueName("streamed agent"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("agent", "Platform.AiAgent", ("instructions", Literal("String", "You are the home assistant.")),
                ("tools", new JsonObject { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = "[\"get_device_state\"]" } })),
            Activity("reply", "Platform.SendReply", ("text", Js("getOutput('agent', 'Answer')"))));
        model["root"]!["activities"]!.AsArray().Add(Activity("sorry", "Platform.SendReply", ("text", Literal("String", Sorry))));
        model["root"]!["connections"]!.AsArray().Add(Connect("agent", "sorry", "Failed"));
        await server.Admin.SaveAsync(model, publish: true);
    }

    /// <summary>Asserts partial frames that grow into <paramref name="answer"/>, never discarded, then the final message replacing them.</summary>
    private static void AssertStreamedThenReplaced(List<JsonObject> frames, string answer)
    {
        var partials = frames.Where(f => f.Str("type") == "partial").ToList();
        Assert.True(partials.Count >= 3, $"expected several partial frames, got: {string.Join(" | ", frames.Select(f => f.ToJsonString()))}");
        var id = partials[0].Str("id");
        Assert.All(partials, p => Assert.Equal(id, p.Str("id")));
        Assert.All(partials, p => Assert.Null(p["discarded"]));
        Assert.All(partials, p => Assert.StartsWith(p.Str("text"), answer, StringComparison.Ordinal));
        for (var i = 1; i < partials.Count; i++) Assert.StartsWith(partials[i - 1].Str("text"), partials[i].Str("text"));
        Assert.Equal(answer, partials[^1].Str("text"));
        Assert.Equal(answer, frames[^1].Str("text"));
        Assert.Equal(id, frames[^1].Str("replaces"));
    }

    [Fact]
    public async Task Should_Stream_Only_The_Final_Answer_When_The_Agent_Calls_A_Tool_First()
    {
        // Arrange: the model first asks for the kitchen light's state (a streamed tool call), then answers in nine words.
        const string answer = "The kitchen light is on, the device registry says.";
        server.Model.Reply = (messages, _) => messages.Any(m => m?["role"]?.GetValue<string>() == "tool")
            ? FakeOpenAiReply.Text(answer)
            : FakeOpenAiReply.Calls(("get_device_state", "{\"device\":\"kitchen light\"}"));
        server.Model.StreamChunkDelay = TimeSpan.FromMilliseconds(100);
        server.Model.FailStreamAfterDeltas = null;
        var before = server.Model.Requests.Count;
        var channel = await CreateChannelAsync("WebChat", new JsonObject());
        await PublishAgentWorkflowAsync(channel);
        await using var chat = await ConnectAsync(channel);

        try
        {
            // Act
            await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "a1", ["text"] = "is the kitchen light on?" });
            var frames = await chat.UntilAsync("message");

            // Assert: only the answer round was shown growing (no bubble for the tool round, nothing discarded), the final
            // reply replaced it, and it went out once through the outbox.
            AssertStreamedThenReplaced(frames, answer);
            var outbox = await OutboxAsync(channel);
            Assert.Single(outbox);
            var requests = server.Model.Requests.Skip(before).ToList();
            Assert.Equal(2, requests.Count);
            Assert.All(requests, r => Assert.True(r.Json?["stream"]?.GetValue<bool>() == true, r.Body));
            Assert.NotNull(requests[0].Json!["tools"]);
            var toolMessage = requests[1].Json!["messages"]!.AsArray().Single(m => m!["role"]!.GetValue<string>() == "tool")!;
            var call = requests[1].Json!["messages"]!.AsArray().Single(m => m!["tool_calls"] is not null)!["tool_calls"]![0]!;
            Assert.Equal(call["id"]!.GetValue<string>(), toolMessage["tool_call_id"]!.GetValue<string>());
            Assert.Equal("get_device_state", call["function"]!["name"]!.GetValue<string>());
            Assert.Equal("kitchen light", JsonNode.Parse(call["function"]!["arguments"]!.GetValue<string>())!["device"]!.GetValue<string>());
        }
        finally
        {
            server.Model.Reply = null;
        }
    }

    [Fact]
    public async Task Should_Stream_A_Named_Model_And_Fall_Back_Unseen_When_Its_Endpoint_Is_Down()
    {
        // Arrange: Ask Model names "down" (nothing listens; one retry), whose fallback "named" streams the answer.
        const string answer = "The fallback model answers this one quite fine.";
        server.Model.Answer = _ => answer;
        server.Model.StreamChunkDelay = TimeSpan.FromMilliseconds(100);
        server.Model.FailStreamAfterDeltas = null;
        var before = server.Model.Requests.Count;
        var channel = await CreateChannelAsync("WebChat", new JsonObject());
        await PublishAskWorkflowAsync(channel, "down");
        await using var chat = await ConnectAsync(channel);

        // Act
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "n1", ["text"] = "who answers?" });
        var frames = await chat.UntilAsync("message");

        // Assert: the user saw only the fallback's answer growing, then the final reply; the request streamed.
        AssertStreamedThenReplaced(frames, answer);
        var asked = Assert.Single(server.Model.Requests.Skip(before));
        Assert.True(asked.Json?["stream"]?.GetValue<bool>() == true, asked.Body);
        Assert.Single(await OutboxAsync(channel));
    }

    [Fact]
    public async Task Should_Discard_The_Partial_Reply_Clearly_And_Record_An_Incident_When_A_Named_Model_Fails_Mid_Stream()
    {
        // Arrange: the named model's server dies after three words.
        server.Model.Answer = _ => "This named answer will never be finished by the model server.";
        server.Model.StreamChunkDelay = TimeSpan.FromMilliseconds(80);
        server.Model.FailStreamAfterDeltas = 3;
        var channel = await CreateChannelAsync("WebChat", new JsonObject());
        var definitionId = await PublishAskWorkflowAsync(channel, "named");
        await using var chat = await ConnectAsync(channel);

        try
        {
            // Act
            await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "m1", ["text"] = "tell me" });
            var frames = await chat.UntilAsync("message");

            // Assert: the partial is discarded, the clear reply comes once, and the instance has an incident naming the model,
            // its endpoint and the error.
            var partials = frames.Where(f => f.Str("type") == "partial").ToList();
            Assert.NotEmpty(partials);
            Assert.True(partials[^1]["discarded"]?.GetValue<bool>() == true, string.Join(" | ", frames.Select(f => f.ToJsonString())));
            Assert.Equal(Sorry, frames[^1].Str("text"));
            Assert.Null(frames[^1]["replaces"]);
            var only = Assert.Single(await OutboxAsync(channel));
            Assert.DoesNotContain("never be finished", only!.ToJsonString(), StringComparison.Ordinal);
            JsonObject? instance = null;
            var until = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < until)
            {
                var items = (await server.Admin.GetJsonAsync($"/elsa/api/workflow-instances?definitionId={definitionId}"))["items"]!.AsArray();
                if (items.Count > 0)
                {
                    instance = await server.Admin.GetJsonAsync($"/elsa/api/workflow-instances/{items[0]!.Str("id")}");
                    if (instance["workflowState"]!["incidents"]!.AsArray().Count > 0) break;
                }
                await Task.Delay(100, Ct);
            }
            var incident = Assert.Single(instance!["workflowState"]!["incidents"]!.AsArray())!;
            Assert.Equal("ask", incident.Str("activityId"));
            var message = incident.Str("message");
            Assert.Contains("'named'", message, StringComparison.Ordinal);
            Assert.Contains(server.Model.ApiBase.ToString().TrimEnd('/'), message, StringComparison.Ordinal);
            Assert.Contains("mid-answer", message, StringComparison.Ordinal);
            Assert.Contains("Platform:AI:Models:named", message, StringComparison.Ordinal);
        }
        finally
        {
            server.Model.FailStreamAfterDeltas = null;
        }
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
