using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Channels;
using Platform.Messaging.WebChat;
using Platform.Server.Tests.Infrastructure;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>The web chat socket <c>/ws/chat</c>, the chat page and the embed script (protocol in docs/channels.md).</summary>
public abstract class WebChatTests(ServerFixture server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Js(string script) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script },
    };

    private async Task<string> CreateChannelAsync(JsonObject? settings = null, bool echo = true)
    {
        var name = "chat-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = "WebChat", ["settings"] = settings ?? new JsonObject() },
            HttpStatusCode.Created);
        if (echo)
        {
            await server.Admin.SaveAsync(Sequence(UniqueName("chat echo"), null,
                Activity("received", "Platform.MessageReceived", ("channel", Literal("String", name))),
                Activity("reply", "Platform.SendReply", ("text", Js("'You said: ' + getInput('text')")),
                    ("quickReplies", new JsonObject { ["typeName"] = "String[]", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = "[\"Yes\",\"No\"]" } }))),
                publish: true);
        }
        return name;
    }

    private async Task<ChatClient> ConnectAsync(string? channel, string? token = null, string? lastSeen = null, string? origin = null)
    {
        var client = server.Factory.Server.CreateWebSocketClient();
        if (origin is not null) client.ConfigureRequest = r => r.Headers.Origin = origin;
        var query = new List<string>();
        if (channel is not null) query.Add("channel=" + Uri.EscapeDataString(channel));
        if (token is not null) query.Add("token=" + Uri.EscapeDataString(token));
        if (lastSeen is not null) query.Add("lastSeen=" + Uri.EscapeDataString(lastSeen));
        var socket = await client.ConnectAsync(new Uri($"ws://localhost/ws/chat?{string.Join('&', query)}"), Ct);
        return new ChatClient(socket);
    }

    private async Task<int> OutboxCountAsync(string channel) =>
        (int)(await server.Admin.GetJsonAsync($"/api/messages/outbox?channel={channel}"))["totalCount"]!.GetValue<long>();

    [Fact]
    public async Task Should_Welcome_Ack_And_Reply_When_A_Visitor_Sends_A_Message()
    {
        // Arrange
        var channel = await CreateChannelAsync();
        await using var chat = await ConnectAsync(channel);

        // Act
        var welcome = await chat.NextAsync("welcome");
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "m1", ["text"] = "hello" });
        var delivered = await chat.NextAsync("delivered");
        var reply = await chat.NextAsync("message");

        // Assert
        Assert.StartsWith($"webchat:{channel}:", welcome.Str("conversation"));
        Assert.False(welcome["resumed"]!.GetValue<bool>());
        Assert.True(welcome.Str("token").Length > 40);
        Assert.Equal("m1", delivered.Str("id"));
        Assert.False(delivered["duplicate"]!.GetValue<bool>());
        Assert.Equal("You said: hello", reply.Str("text"));
        Assert.Equal("You said: hello", reply.Str("plainText"));
        Assert.Equal(["Yes", "No"], reply["quickReplies"]!.AsArray().Select(q => q.Str("label")));
        Assert.True(DateTimeOffset.TryParse(reply.Str("at"), out _));
    }

    [Fact]
    public async Task Should_Read_The_Whole_Text_When_A_Frame_Is_Larger_Than_The_Idle_Buffer()
    {
        // Arrange: the session reads into a 4 KiB buffer and grows it for longer frames, up to MaxFrameBytes.
        var channel = await CreateChannelAsync(new JsonObject { ["maxMessageLength"] = "40000" });
        await using var chat = await ConnectAsync(channel);
        await chat.NextAsync("welcome");
        var longText = string.Concat(Enumerable.Range(0, 3000).Select(i => $"{i:D5} ")); // 18,000 characters, no two alike

        // Act
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "big", ["text"] = longText });
        var first = await chat.NextAsync("message");
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "small", ["text"] = "and a short one" });
        var second = await chat.NextAsync("message");

        // Assert
        Assert.Equal("You said: " + longText.Trim(), first.Str("plainText").Trim());
        Assert.Equal("You said: and a short one", second.Str("text"));
    }

    [Fact]
    public async Task Should_Send_Typing_While_A_Workflow_Handles_The_Message()
    {
        // Arrange: the workflow calls a slow service (2 s) before it answers.
        await using var slow = await Platform.Testing.Fakes.LoopbackReceiver.StartAsync(async _ =>
        {
            await Task.Delay(2000, Ct);
            return new Platform.Testing.Fakes.FakeResponse(200, "{}");
        });
        var channel = await CreateChannelAsync(echo: false);
        await server.Admin.SaveAsync(Sequence(UniqueName("slow chat"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("call", "Platform.SendHttpRequest", ("url", Literal("String", slow.Url("/slow").ToString()))),
            Activity("reply", "Platform.SendReply", ("text", Literal("String", "done")))), publish: true);
        await using var chat = await ConnectAsync(channel);
        await chat.NextAsync("welcome");

        // Act
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "t1", ["text"] = "take your time" });
        await chat.NextAsync("delivered");
        var typing = await chat.NextAsync("typing");
        var reply = await chat.NextAsync("message");

        // Assert
        Assert.Equal("typing", typing.Str("type"));
        Assert.Equal("done", reply.Str("text"));
    }

    [Fact]
    public async Task Should_Replay_Missed_Replies_When_The_Visitor_Reconnects_With_The_Token()
    {
        // Arrange: a reply is stored while the visitor is away.
        var channel = await CreateChannelAsync();
        string token, conversation, replyId;
        await using (var first = await ConnectAsync(channel))
        {
            var welcome = await first.NextAsync("welcome");
            token = welcome.Str("token");
            conversation = welcome.Str("conversation");
            await first.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "a", ["text"] = "one" });
            await first.NextAsync("delivered");
        }
        var until = DateTime.UtcNow.AddSeconds(20);
        while (await OutboxCountAsync(channel) == 0 && DateTime.UtcNow < until) await Task.Delay(100, Ct);

        // Act
        await using var second = await ConnectAsync(channel, token);
        var resumed = await second.NextAsync("welcome");
        var replayed = await second.NextAsync("message");
        replyId = replayed.Str("id");
        await using var third = await ConnectAsync(channel, token, lastSeen: replyId);
        var again = await third.NextAsync("welcome");
        await third.SendAsync(new JsonObject { ["type"] = "ping" });
        var next = await third.NextAsync(null);

        // Assert
        Assert.True(resumed["resumed"]!.GetValue<bool>());
        Assert.Equal(conversation, resumed.Str("conversation"));
        Assert.NotEqual(token, resumed.Str("token")); // a fresh token each resume: its lifetime starts again
        Assert.Equal("You said: one", replayed.Str("text"));
        Assert.True(replayed["replayed"]!.GetValue<bool>());
        Assert.Equal(conversation, again.Str("conversation"));
        Assert.Equal("pong", next.Str("type")); // nothing after the last seen reply
    }

    [Fact]
    public async Task Should_Store_The_Message_Once_When_The_Client_Resends_The_Same_Id()
    {
        // Arrange
        var channel = await CreateChannelAsync();
        await using var chat = await ConnectAsync(channel);
        await chat.NextAsync("welcome");

        // Act
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "same", ["text"] = "once" });
        var first = await chat.NextAsync("delivered");
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "same", ["text"] = "once" });
        var second = await chat.NextAsync("delivered");
        await chat.NextAsync("message");
        await Task.Delay(1500, Ct); // a second reply would come within the poll interval

        // Assert
        Assert.False(first["duplicate"]!.GetValue<bool>());
        Assert.True(second["duplicate"]!.GetValue<bool>());
        Assert.Equal(1, await OutboxCountAsync(channel));
        var inbox = await server.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}");
        Assert.Equal(1, inbox["totalCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task Should_Answer_Error_Frames_And_Stay_Open_When_Frames_Are_Bad_Or_Too_Large()
    {
        // Arrange
        var channel = await CreateChannelAsync(new JsonObject { ["maxMessageLength"] = "100" }, echo: false);
        await using var chat = await ConnectAsync(channel);
        await chat.NextAsync("welcome");

        // Act
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["id"] = "long", ["text"] = new string('x', 101) });
        var tooLong = await chat.NextAsync("error");
        await chat.SendRawAsync(new string('y', WebChatSession.MaxFrameBytes + 10_000));
        var tooLarge = await chat.NextAsync("error");
        await chat.SendRawAsync("not json");
        var badFrame = await chat.NextAsync("error");
        await chat.SendAsync(new JsonObject { ["type"] = "message", ["text"] = "no id" });
        var noId = await chat.NextAsync("error");
        await chat.SendAsync(new JsonObject { ["type"] = "dance" });
        var unknown = await chat.NextAsync("error");
        await chat.SendAsync(new JsonObject { ["type"] = "typing" });
        await chat.SendAsync(new JsonObject { ["type"] = "read", ["id"] = "x" });
        await chat.SendAsync(new JsonObject { ["type"] = "ping" });
        var pong = await chat.NextAsync(null);

        // Assert
        Assert.Equal("message_too_large", tooLong.Str("code"));
        Assert.Equal("long", tooLong.Str("id"));
        Assert.Contains("100", tooLong.Str("message"));
        Assert.Equal("frame_too_large", tooLarge.Str("code"));
        Assert.Equal("bad_frame", badFrame.Str("code"));
        Assert.Equal("bad_message", noId.Str("code"));
        Assert.Equal("unknown_type", unknown.Str("code"));
        Assert.Equal("pong", pong.Str("type"));
        Assert.Equal(WebSocketState.Open, chat.State);
        Assert.Equal(0, (await server.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}"))["totalCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task Should_Start_A_New_Conversation_When_The_Token_Has_Expired()
    {
        // Arrange: tokens of this channel live one second; a fresh token from a resume lives one second again.
        var channel = await CreateChannelAsync(new JsonObject { ["tokenLifetime"] = "00:00:01" }, echo: false);
        string token, conversation;
        await using (var first = await ConnectAsync(channel))
        {
            var welcome = await first.NextAsync("welcome");
            (token, conversation) = (welcome.Str("token"), welcome.Str("conversation"));
        }
        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);

        // Act
        await using var late = await ConnectAsync(channel, token);
        var error = await late.NextAsync(null);
        var welcomeAgain = await late.NextAsync("welcome");

        // Assert
        Assert.Equal("expired_token", error.Str("code"));
        Assert.False(welcomeAgain["resumed"]!.GetValue<bool>());
        Assert.NotEqual(conversation, welcomeAgain.Str("conversation"));
    }

    [Fact]
    public async Task Should_Start_A_New_Conversation_With_An_Error_When_The_Token_Is_Wrong()
    {
        // Arrange: a valid token of another channel, and a forged one.
        var channel = await CreateChannelAsync(echo: false);
        var other = await CreateChannelAsync(echo: false);
        string otherToken;
        await using (var o = await ConnectAsync(other)) otherToken = (await o.NextAsync("welcome")).Str("token");

        // Act
        await using var forged = await ConnectAsync(channel, token: "AAAA" + otherToken[4..]);
        var forgedError = await forged.NextAsync(null);
        var forgedWelcome = await forged.NextAsync("welcome");
        await using var moved = await ConnectAsync(channel, token: otherToken);
        var movedError = await moved.NextAsync(null);
        var movedWelcome = await moved.NextAsync("welcome");

        // Assert
        Assert.Equal("error", forgedError.Str("type"));
        Assert.Equal("invalid_token", forgedError.Str("code"));
        Assert.False(forgedWelcome["resumed"]!.GetValue<bool>());
        Assert.Equal("invalid_token", movedError.Str("code"));
        Assert.False(movedWelcome["resumed"]!.GetValue<bool>());
        Assert.StartsWith($"webchat:{channel}:", movedWelcome.Str("conversation"));
        Assert.NotEqual(forgedWelcome.Str("conversation"), movedWelcome.Str("conversation"));
    }

    [Fact]
    public async Task Should_Refuse_The_Socket_When_The_Origin_Is_Not_Allowed()
    {
        // Arrange
        var open = await CreateChannelAsync(echo: false);
        var listed = await CreateChannelAsync(new JsonObject { ["allowedOrigins"] = "https://shop.example.com" }, echo: false);

        // Act
        var foreign = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(open, origin: "https://evil.example.com"));
        await using var sameOrigin = await ConnectAsync(open, origin: "http://localhost");
        await using var allowed = await ConnectAsync(listed, origin: "https://shop.example.com");
        var stillForeign = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(listed, origin: "https://evil.example.com"));

        // Assert
        Assert.Contains("403", foreign.Message);
        Assert.Equal("welcome", (await sameOrigin.NextAsync(null)).Str("type"));
        Assert.Equal("welcome", (await allowed.NextAsync(null)).Str("type"));
        Assert.Contains("403", stillForeign.Message);
    }

    [Fact]
    public async Task Should_Answer_ProblemDetails_When_The_Request_Is_Not_A_Chat_Socket()
    {
        // Arrange
        using var anonymous = server.Factory.CreateClient(apiKey: null);

        // Act
        using var plainGet = await anonymous.GetAsync("/ws/chat", Ct);
        var unknown = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync("no-such-channel"));

        // Assert
        var problem = await plainGet.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("widget.js", problem.Str("detail"));
        Assert.Contains("404", unknown.Message);
    }

    [Fact]
    public async Task Should_Serve_The_Chat_Page_And_The_Embed_Script_When_Asked_Anonymously()
    {
        // Arrange
        using var anonymous = server.Factory.CreateClient(apiKey: null);

        // Act
        using var page = await anonymous.GetAsync("/chat", Ct);
        using var widget = await anonymous.GetAsync("/chat/widget.js", Ct);
        using var script = await anonymous.GetAsync("/chat/chat.js", Ct);
        using var missing = await anonymous.GetAsync("/chat/nothing.js", Ct);
        using var unknownChannel = await anonymous.GetAsync("/chat?channel=no-such-channel", Ct);

        // Assert: the default "web" channel works out of the box.
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync(Ct);
        Assert.Contains("data-channel=\"web\"", html);
        Assert.Contains("frame-ancestors *", string.Join(";", page.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal(HttpStatusCode.OK, widget.StatusCode);
        Assert.Equal("text/javascript", widget.Content.Headers.ContentType?.MediaType);
        Assert.Contains("data-channel", await widget.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        await missing.AssertProblemAsync(HttpStatusCode.NotFound);
        await unknownChannel.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Should_Report_Sent_And_Keep_The_Reply_When_No_Socket_Is_Connected()
    {
        // Arrange
        var provider = server.Factory.Services.GetServices<Platform.Messaging.IChannelProvider>().Last(p => p.Kind == ChannelKind.WebChat);
        var sender = provider.Create(new Platform.Messaging.ChannelConfig { Name = "nobody-" + Guid.NewGuid().ToString("N")[..8], Kind = ChannelKind.WebChat });

        // Act
        var result = await sender.SendAsync(WebChatTokens.NewChatId(), new OutgoingMessage { Text = "anyone there?", IdempotencyKey = "out-1" }, Ct);

        // Assert
        Assert.Equal(SendStatus.Sent, result.Status);
        Assert.Equal(["out-1"], result.ChannelMessageIds);
    }

    /// <summary>A chat socket that reads JSON frames, skipping <c>typing</c> and <c>ping</c> unless asked for.</summary>
    private sealed class ChatClient(WebSocket socket) : IAsyncDisposable
    {
        public WebSocketState State => socket.State;

        public Task SendAsync(JsonObject frame) => SendRawAsync(frame.ToJsonString());

        public async Task SendRawAsync(string text) =>
            await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, Ct);

        private readonly List<JsonObject> _pending = [];

        /// <summary>
        /// The next frame of <paramref name="type"/> (any type but typing/ping when null), failing after 20 s. Frames of other
        /// types that arrive first are kept for later calls (a reply may overtake a "delivered").
        /// </summary>
        public async Task<JsonObject> NextAsync(string? type)
        {
            bool Matches(JsonObject f) => type is null ? f["type"]?.GetValue<string>() is not ("typing" or "ping") : f["type"]?.GetValue<string>() == type;
            if (_pending.FirstOrDefault(Matches) is { } buffered)
            {
                _pending.Remove(buffered);
                return buffered;
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            while (true)
            {
                JsonObject frame;
                try { frame = await ReadAsync(timeout.Token); }
                catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
                {
                    throw new TimeoutException($"No {type ?? "non-typing"} frame within 20 s; kept: {string.Join(", ", _pending.Select(f => f.ToJsonString()))}");
                }
                if (Matches(frame)) return frame;
                if (frame["type"]?.GetValue<string>() is not ("typing" or "ping")) _pending.Add(frame);
            }
        }

        private async Task<JsonObject> ReadAsync(CancellationToken ct)
        {
            var buffer = new byte[64 * 1024];
            using var text = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, ct);
                if (result.MessageType == WebSocketMessageType.Close) Assert.Fail("The server closed the chat socket.");
                text.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
            return JsonNode.Parse(Encoding.UTF8.GetString(text.ToArray()))!.AsObject();
        }

        public ValueTask DisposeAsync() => WebChatClient.CloseQuietlyAsync(socket);
    }
}

/// <summary>The web chat on SQLite.</summary>
public sealed class SqliteWebChatTests(SqliteServerFixture server) : WebChatTests(server), IClassFixture<SqliteServerFixture>;

/// <summary>The web chat on PostgreSQL.</summary>
public sealed class PostgresWebChatTests(PostgresServerFixture server) : WebChatTests(server), IClassFixture<PostgresServerFixture>;
