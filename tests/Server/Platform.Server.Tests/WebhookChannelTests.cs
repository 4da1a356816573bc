using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Channels.Webhooks;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary><c>POST /channels/{name}/webhook</c>: signed deliveries in, synchronous replies, outbound replies signed.</summary>
public abstract class WebhookChannelTests(ServerFixture server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Secret = "webhook-secret-for-tests-0123456789";

    private static JsonObject Js(string script) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script },
    };

    private async Task<string> CreateChannelAsync(Uri? outboundUrl = null, JsonObject? extra = null, bool echo = true)
    {
        var name = "hook-" + Guid.NewGuid().ToString("N")[..10];
        var settings = extra ?? new JsonObject();
        settings["secret"] = Secret;
        if (outboundUrl is not null) settings["outboundUrl"] = outboundUrl.ToString();
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = "Webhook", ["settings"] = settings }, HttpStatusCode.Created);
        if (echo)
            await server.Admin.SaveAsync(Sequence(UniqueName("webhook echo"), null,
                Activity("received", "Platform.MessageReceived", ("channel", Literal("String", name))),
                Activity("reply", "Platform.SendReply", ("text", Js("'You said: ' + getInput('text')")))), publish: true);
        return name;
    }

    private static string Body(string id, string text, string sender = "u-1") =>
        new JsonObject { ["id"] = id, ["sender"] = new JsonObject { ["id"] = sender, ["name"] = "Ada" }, ["text"] = text }.ToJsonString();

    private static string Sign(string body, long? timestamp = null, string secret = Secret) =>
        WebhookSignature.Create(timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, secret);

    private async Task<HttpResponseMessage> PostAsync(string channel, string body, string? signature, string query = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook{query}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (signature is not null) request.Headers.Add(WebhookSignature.Header, signature);
        using var client = server.Factory.CreateClient(apiKey: null);
        return await client.SendAsync(request, Ct);
    }

    private async Task<JsonArray> OutboxAsync(string channel) =>
        (await server.Admin.GetJsonAsync($"/api/messages/outbox?channel={channel}"))["items"]!.AsArray();

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!await condition() && DateTime.UtcNow < until) await Task.Delay(100, Ct);
    }

    [Fact]
    public async Task Should_Answer_The_Reply_In_The_Body_And_Not_Post_It_When_A_Signed_Request_Waits()
    {
        // Arrange
        await using var receiver = await LoopbackReceiver.StartAsync();
        var channel = await CreateChannelAsync(receiver.Url("/hooks/platform"));
        var body = Body("evt-sync-1", "hello");

        // Act
        using var response = await PostAsync(channel, body, Sign(body), "?wait=true");
        var answer = await response.ReadJsonAsync(HttpStatusCode.OK);
        await WaitUntilAsync(async () => (await OutboxAsync(channel)).Any(m => m.Str("status") == "Sent"));
        await Task.Delay(500, Ct);

        // Assert
        Assert.Equal("replied", answer.Str("status"));
        Assert.Equal($"webhook:{channel}:u-1", answer.Str("conversation"));
        var reply = answer["reply"]!;
        Assert.Equal("You said: hello", reply.Str("text"));
        Assert.Equal("You said: hello", reply.Str("plainText"));
        Assert.Equal("evt-sync-1", reply.Str("replyTo"));
        var outbox = Assert.Single(await OutboxAsync(channel));
        Assert.Equal("Sent", outbox!.Str("status"));
        Assert.Equal(reply.Str("id"), outbox.Str("id"));
        Assert.Empty(receiver.Requests); // the reply went back in the response only
    }

    [Fact]
    public async Task Should_Accept_With_202_And_Post_The_Reply_Signed_To_The_Outbound_Url_When_Not_Waiting()
    {
        // Arrange
        await using var receiver = await LoopbackReceiver.StartAsync();
        var channel = await CreateChannelAsync(receiver.Url("/hooks/platform"));
        var body = Body("evt-async-1", "hi there", sender: "u-9");

        // Act
        using var response = await PostAsync(channel, body, Sign(body));
        var answer = await response.ReadJsonAsync(HttpStatusCode.Accepted);
        await WaitUntilAsync(() => Task.FromResult(receiver.Requests.Count > 0));

        // Assert
        Assert.Equal("accepted", answer.Str("status"));
        Assert.False(string.IsNullOrEmpty(answer.Str("inboxMessageId")));
        var delivery = Assert.Single(receiver.Requests);
        Assert.Equal("/hooks/platform", delivery.Path);
        Assert.Equal("You said: hi there", delivery.Json!.Str("text"));
        Assert.Equal("u-9", delivery.Json!.Str("to"));
        var signature = delivery.Header(WebhookSignature.Header)!;
        var parts = signature.Split(',');
        var t = long.Parse(parts[0][2..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("v1=" + WebhookSignature.ComputeV1(Secret, t, delivery.Body), parts[1]);
        Assert.Equal(delivery.Json!.Str("id"), delivery.Header(WebhookSignature.DeliveryIdHeader));
    }

    [Fact]
    public async Task Should_Answer_401_When_The_Signature_Is_Wrong_Missing_Or_Stale()
    {
        // Arrange
        var channel = await CreateChannelAsync(echo: false);
        var body = Body("evt-bad-1", "hello");

        // Act
        using var wrong = await PostAsync(channel, body, Sign(body, secret: "not-the-secret"));
        using var missing = await PostAsync(channel, body, null);
        using var stale = await PostAsync(channel, body, Sign(body, DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds()));
        using var tampered = await PostAsync(channel, Body("evt-bad-1", "hello!"), Sign(body));

        // Assert
        var problem = await wrong.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("HMAC-SHA256", problem.Str("detail"));
        await missing.AssertProblemAsync(HttpStatusCode.Unauthorized);
        await stale.AssertProblemAsync(HttpStatusCode.Unauthorized);
        await tampered.AssertProblemAsync(HttpStatusCode.Unauthorized);
        var inbox = await server.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}");
        Assert.Equal(0, inbox["totalCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task Should_Answer_401_When_A_Signed_Request_Is_Replayed()
    {
        // Arrange
        var channel = await CreateChannelAsync(echo: false);
        var body = Body("evt-replay-1", "hello");
        var signature = Sign(body);

        // Act
        using var first = await PostAsync(channel, body, signature);
        using var replay = await PostAsync(channel, body, signature);

        // Assert
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var problem = await replay.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("replay", problem.Str("detail"));
    }

    [Fact]
    public async Task Should_Store_Once_When_The_Same_Message_Is_Delivered_Twice()
    {
        // Arrange: the sender retries the same message id, signed anew.
        await using var receiver = await LoopbackReceiver.StartAsync();
        var channel = await CreateChannelAsync(receiver.Url("/in"));
        var body = Body("evt-dup-1", "only once");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // Act
        using var first = await PostAsync(channel, body, Sign(body, now - 1));
        using var second = await PostAsync(channel, body, Sign(body, now));
        var firstAnswer = await first.ReadJsonAsync(HttpStatusCode.Accepted);
        var secondAnswer = await second.ReadJsonAsync(HttpStatusCode.Accepted);
        await WaitUntilAsync(() => Task.FromResult(receiver.Requests.Count > 0));
        await Task.Delay(1500, Ct); // a second reply would come within the poll interval

        // Assert
        Assert.False(firstAnswer["duplicate"]!.GetValue<bool>());
        Assert.True(secondAnswer["duplicate"]!.GetValue<bool>());
        Assert.Equal(firstAnswer.Str("inboxMessageId"), secondAnswer.Str("inboxMessageId"));
        var inbox = await server.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}");
        Assert.Equal(1, inbox["totalCount"]!.GetValue<long>());
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task Should_Answer_The_Stored_Reply_When_A_Waiting_Request_Is_Retried()
    {
        // Arrange
        var channel = await CreateChannelAsync();
        var body = Body("evt-retry-1", "again");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var first = await PostAsync(channel, body, Sign(body, now - 1), "?wait=true");
        var firstAnswer = await first.ReadJsonAsync(HttpStatusCode.OK);

        // Act
        using var retry = await PostAsync(channel, body, Sign(body, now), "?wait=true");
        var retryAnswer = await retry.ReadJsonAsync(HttpStatusCode.OK);

        // Assert
        Assert.True(retryAnswer["duplicate"]!.GetValue<bool>());
        Assert.Equal(firstAnswer["reply"]!.Str("id"), retryAnswer["reply"]!.Str("id"));
        Assert.Equal("You said: again", retryAnswer["reply"]!.Str("text"));
    }

    [Fact]
    public async Task Should_Answer_202_When_No_Reply_Comes_Within_The_Sync_Timeout()
    {
        // Arrange: no workflow and no fallback reply in time (syncTimeout 0 s).
        var channel = await CreateChannelAsync(extra: new JsonObject { ["syncTimeout"] = "0" }, echo: false);
        var body = Body("evt-timeout-1", "anyone?");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.Header, Sign(body));
        request.Headers.Add("X-Platform-Wait", "true");

        // Act
        using var client = server.Factory.CreateClient(apiKey: null);
        using var response = await client.SendAsync(request, Ct);

        // Assert
        var answer = await response.ReadJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal("accepted", answer.Str("status"));
    }

    [Fact]
    public async Task Should_Answer_400_404_And_413_With_ProblemDetails_When_The_Delivery_Is_Bad()
    {
        // Arrange
        var channel = await CreateChannelAsync(extra: new JsonObject { ["maxBodyBytes"] = "2000" }, echo: false);
        const string malformed = "{\"id\": \"x\", ";
        var noSender = new JsonObject { ["id"] = "evt-1", ["text"] = "hi" }.ToJsonString();
        var huge = Body("evt-huge", new string('x', 5000));

        // Act
        using var badJson = await PostAsync(channel, malformed, Sign(malformed));
        using var badShape = await PostAsync(channel, noSender, Sign(noSender));
        using var unknown = await PostAsync("no-such-channel", noSender, Sign(noSender));
        using var tooLarge = await PostAsync(channel, huge, Sign(huge));

        // Assert
        await badJson.AssertProblemAsync(HttpStatusCode.BadRequest);
        var shape = await badShape.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("sender", shape.Str("detail"));
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
        var size = await tooLarge.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("2000", size.Str("detail"));
    }

    [Fact]
    public async Task Should_Read_A_Small_Body_And_Answer_4xx_When_The_Channel_Allows_Fewer_Bytes_Than_A_Read_Buffer()
    {
        // Arrange: a limit below the smallest read buffer (256 bytes).
        var channel = await CreateChannelAsync(extra: new JsonObject { ["maxBodyBytes"] = "10" }, echo: false);
        const string small = "{}";
        var large = Body("evt-over-10", "hello");

        // Act
        using var read = await PostAsync(channel, small, Sign(small));
        using var tooLarge = await PostAsync(channel, large, Sign(large));

        // Assert
        await read.AssertProblemAsync(HttpStatusCode.BadRequest);
        await tooLarge.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }
}

/// <summary>The webhook channel on SQLite.</summary>
public sealed class SqliteWebhookChannelTests(SqliteServerFixture server) : WebhookChannelTests(server), IClassFixture<SqliteServerFixture>;

/// <summary>The webhook channel on PostgreSQL.</summary>
public sealed class PostgresWebhookChannelTests(PostgresServerFixture server) : WebhookChannelTests(server), IClassFixture<PostgresServerFixture>;
