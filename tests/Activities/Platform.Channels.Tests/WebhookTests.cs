using System.Text.Json.Nodes;
using Platform.Channels.Webhooks;

namespace Platform.Channels.Tests;

public sealed class WebhookTests
{
    private const string Secret = "whsec_test_5f2b";

    [Fact]
    public async Task Should_Accept_When_SignedWithTheSecret()
    {
        var (verifier, clock) = Verifier();
        const string body = "{\"id\":\"1\"}";
        var header = WebhookSignature.Create(clock.Now.ToUnixTimeSeconds(), body, Secret);

        var result = await verifier.VerifyAsync(header, body, [Secret]);

        Assert.Null(result);
        Assert.Matches("^t=\\d+,v1=[0-9a-f]{64}$", header);
    }

    [Fact]
    public async Task Should_RejectReplay_When_SameSignedRequestArrivesTwice()
    {
        var (verifier, clock) = Verifier();
        const string body = "{\"id\":\"2\"}";
        var header = WebhookSignature.Create(clock.Now.ToUnixTimeSeconds(), body, Secret);

        var first = await verifier.VerifyAsync(header, body, [Secret]);
        clock.Now = clock.Now.AddSeconds(30);
        var replay = await verifier.VerifyAsync(header, body, [Secret]);

        Assert.Null(first);
        Assert.Equal(RejectionReason.Replay, replay!.Reason);
        Assert.Equal(401, replay.HttpStatusCode);
    }

    [Theory]
    [InlineData(-301, RejectionReason.StaleTimestamp)]
    [InlineData(301, RejectionReason.StaleTimestamp)]
    [InlineData(-299, null)]
    public async Task Should_CheckTimeWindow_When_TimestampIsSkewed(int skewSeconds, RejectionReason? expected)
    {
        var (verifier, clock) = Verifier();
        const string body = "{}";

        var result = await verifier.VerifyAsync(WebhookSignature.Create(clock.Now.ToUnixTimeSeconds() + skewSeconds, body, Secret), body, [Secret]);

        Assert.Equal(expected, result?.Reason);
    }

    [Fact]
    public async Task Should_Reject_When_SecretOrBodyOrHeaderIsWrong()
    {
        var (verifier, clock) = Verifier();
        const string body = "{\"amount\":1}";
        var now = clock.Now.ToUnixTimeSeconds();

        var wrongSecret = await verifier.VerifyAsync(WebhookSignature.Create(now, body, "other"), body, [Secret]);
        var tampered = await verifier.VerifyAsync(WebhookSignature.Create(now, body, Secret), "{\"amount\":1000}", [Secret]);
        var garbage = await verifier.VerifyAsync("sha256=abc", body, [Secret]);
        var missing = await verifier.VerifyAsync(null, body, [Secret]);

        Assert.Equal(RejectionReason.InvalidSignature, wrongSecret!.Reason);
        Assert.Equal(RejectionReason.InvalidSignature, tampered!.Reason);
        Assert.Equal(RejectionReason.InvalidSignature, garbage!.Reason);
        Assert.Equal(RejectionReason.MissingSignature, missing!.Reason);
    }

    [Fact]
    public async Task Should_AcceptEitherSecret_When_RotatingSecrets()
    {
        var (verifier, clock) = Verifier();
        const string body = "{}";
        var now = clock.Now.ToUnixTimeSeconds();

        var old = await verifier.VerifyAsync(WebhookSignature.Create(now, body, "old"), body, ["new", "old"]);
        var both = await verifier.VerifyAsync(WebhookSignature.Create(now + 1, body, "new", "old"), body, ["new"]);

        Assert.Null(old);
        Assert.Null(both);
    }

    [Fact]
    public async Task Should_ForgetExpiredEntries_When_ReplayWindowHasPassed()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var cache = new InMemoryReplayCache(clock);

        Assert.True(await cache.TryRegisterAsync("k", clock.Now.AddMinutes(5)));
        Assert.False(await cache.TryRegisterAsync("k", clock.Now.AddMinutes(5)));
        clock.Now = clock.Now.AddMinutes(6);
        Assert.True(await cache.TryRegisterAsync("k", clock.Now.AddMinutes(5)));
    }

    [Fact]
    public async Task Should_PostSignedJson_When_SendingOutbound()
    {
        var verifier = new WebhookSignatureVerifier(new InMemoryReplayCache());
        InboundResult? verification = null;
        await using var receiver = await LoopbackReceiver.StartAsync(async request =>
        {
            verification = await verifier.VerifyAsync(request.Header(WebhookSignature.Header), request.Body, [Secret]);
            return new FakeResponse(verification is null ? 204 : 401, "", "text/plain");
        });
        var channel = new WebhookChannel("crm", new WebhookChannelOptions { Secret = Secret, OutboundUrl = receiver.Url("hooks/platform") },
            Http.Client(), new InMemoryReplayCache());

        var result = await channel.SendAsync("customer-42", new OutgoingMessage
        {
            Text = "**Hi** there",
            QuickReplies = [new QuickReply("Yes", "yes")],
            ReplyToChannelMessageId = "m-1",
        });

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Null(verification);
        var request = Assert.Single(receiver.Requests);
        var json = request.Json!.AsObject();
        Assert.Equal(("customer-42", "**Hi** there", "Hi there", "m-1"),
            (json["to"]!.GetValue<string>(), json["text"]!.GetValue<string>(), json["plainText"]!.GetValue<string>(), json["replyTo"]!.GetValue<string>()));
        Assert.Equal("<p><strong>Hi</strong> there</p>", json["html"]!.GetValue<string>());
        Assert.Equal(json["id"]!.GetValue<string>(), request.Header(WebhookSignature.DeliveryIdHeader));
        Assert.Equal(json["id"]!.GetValue<string>(), Assert.Single(result.ChannelMessageIds));
    }

    [Fact]
    public async Task Should_ClassifyReceiverFailures_When_ReceiverAnswersErrors()
    {
        var status = 0;
        await using var receiver = await LoopbackReceiver.StartAsync(_ => Task.FromResult(new FakeResponse(status, "nope", "text/plain")));
        receiver.RespondTooManyRequests(1, TimeSpan.FromSeconds(12));
        var channel = new WebhookChannel("crm", new WebhookChannelOptions { Secret = Secret, OutboundUrl = receiver.Url("hook") },
            Http.Client(), new InMemoryReplayCache());

        var limited = await channel.SendAsync("x", new OutgoingMessage { Text = "a", IdempotencyKey = "outbox-7" });
        status = 503;
        var down = await channel.SendAsync("x", new OutgoingMessage { Text = "a" });
        status = 422;
        var refused = await channel.SendAsync("x", new OutgoingMessage { Text = "a" });

        Assert.Equal((SendStatus.RetryableFailure, TimeSpan.FromSeconds(12)), (limited.Status, limited.RetryAfter));
        Assert.Equal(SendStatus.RetryableFailure, down.Status);
        Assert.Equal(SendStatus.PermanentFailure, refused.Status);
        Assert.Contains("nope", refused.Error);
        Assert.Equal("outbox-7", receiver.Requests[0].Header(WebhookSignature.DeliveryIdHeader));
    }

    [Fact]
    public async Task Should_ParseInboundJson_When_SignatureIsValid()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var channel = new WebhookChannel("crm", new WebhookChannelOptions { Secret = Secret }, Http.Client(), new InMemoryReplayCache(clock), clock);
        var body = new JsonObject
        {
            ["id"] = "evt-1",
            ["conversationId"] = "ticket-9",
            ["sender"] = new JsonObject { ["id"] = "u-1", ["name"] = "Ada" },
            ["text"] = "hello",
            ["attachments"] = new JsonArray(new JsonObject { ["name"] = "a.txt", ["contentType"] = "text/plain", ["contentBase64"] = "aGk=" }),
        }.ToJsonString();

        var result = await channel.HandleAsync(WebhookSignature.Create(clock.Now.ToUnixTimeSeconds(), body, Secret), body);

        var message = result.Message!;
        Assert.Equal(("evt-1", "hello", "Ada"), (message.ChannelMessageId, message.Text, message.Sender.DisplayName));
        Assert.Equal(new ConversationId(ChannelKind.Webhook, "crm", "ticket-9"), message.Conversation);
        Assert.Equal("hi"u8.ToArray(), Assert.Single(message.Attachments).Content!.Value.ToArray());
    }

    [Theory]
    [InlineData("{\"sender\":{\"id\":\"u\"},\"text\":\"x\"}", 400, "\"id\"")]
    [InlineData("not json", 400, "not valid JSON")]
    [InlineData("{\"id\":\"1\",\"sender\":{\"id\":\"u\"}}", 400, "\"text\" or \"attachments\"")]
    [InlineData("{\"id\":\"1\",\"sender\":{\"id\":\"u\"},\"attachments\":[{\"name\":\"big.bin\",\"url\":\"https://x/big\",\"size\":99999999}]}", 413, "big.bin")]
    public async Task Should_RejectWithClearMessage_When_InboundBodyIsBad(string body, int status, string fragment)
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var channel = new WebhookChannel("crm", new WebhookChannelOptions { Secret = Secret }, Http.Client(), new InMemoryReplayCache(clock), clock);

        var result = await channel.HandleAsync(WebhookSignature.Create(clock.Now.ToUnixTimeSeconds(), body, Secret), body);

        Assert.Equal(InboundStatus.Rejected, result.Status);
        Assert.Equal(status, result.HttpStatusCode);
        Assert.Contains(fragment, result.Error);
    }

    private static (WebhookSignatureVerifier Verifier, ManualTimeProvider Clock) Verifier()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        return (new WebhookSignatureVerifier(new InMemoryReplayCache(clock), clock), clock);
    }
}
