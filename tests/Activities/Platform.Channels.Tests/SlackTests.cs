using System.Text.Json.Nodes;
using Platform.Channels.Slack;

namespace Platform.Channels.Tests;

public sealed class SlackTests
{
    private const string Secret = "8f742231b10e8888abcd99yyyzzz85a5";

    [Fact]
    public void Should_AcceptSignature_When_ComputedWithTheSigningSecret()
    {
        var (channel, clock) = Channel();
        var body = SlackPayloads.DirectMessage("D024BE91L", "U2147483697", "Hello hello can you hear me?", "1355517523.000005").ToJsonString();
        var timestamp = clock.Now.ToUnixTimeSeconds();

        var result = channel.HandleEvent(body, timestamp.ToString(), FakeSlackServer.Sign(Secret, timestamp, body));

        Assert.Equal(InboundStatus.Accepted, result.Status);
        Assert.Equal(200, result.HttpStatusCode);
        Assert.Equal(FakeSlackServer.Sign(Secret, timestamp, body), SlackSignature.Compute(Secret, timestamp.ToString(), body));
    }

    [Theory]
    [InlineData("wrong-secret", 0, false, RejectionReason.InvalidSignature)]
    [InlineData(Secret, -301, false, RejectionReason.StaleTimestamp)]
    [InlineData(Secret, 301, false, RejectionReason.StaleTimestamp)]
    [InlineData(Secret, 0, true, RejectionReason.InvalidSignature)]
    public void Should_Reject_When_SecretTimestampOrBodyIsWrong(string secret, int skewSeconds, bool tamper, RejectionReason reason)
    {
        var (channel, clock) = Channel();
        var body = SlackPayloads.AppMention("C0LAN2Q65", "U061F7AUR", "what is up?", "1515449522.000016").ToJsonString();
        var timestamp = clock.Now.ToUnixTimeSeconds() + skewSeconds;
        var signature = FakeSlackServer.Sign(secret, timestamp, body);

        var sent = tamper ? body.Replace("what is up?", "transfer all", StringComparison.Ordinal) : body;
        Assert.Equal(tamper, sent != body);

        var result = channel.HandleEvent(sent, timestamp.ToString(), signature);

        Assert.Equal(InboundStatus.Rejected, result.Status);
        Assert.Equal(reason, result.Reason);
        Assert.Equal(401, result.HttpStatusCode);
        Assert.Null(result.Message);
    }

    [Fact]
    public void Should_Reject_When_HeadersAreMissing()
    {
        var (channel, _) = Channel();

        var result = channel.HandleEvent("{}", null, null);

        Assert.Equal(RejectionReason.MissingSignature, result.Reason);
        Assert.Contains("X-Slack-Signature", result.Error);
    }

    [Fact]
    public void Should_AnswerChallenge_When_UrlVerification()
    {
        var (channel, clock) = Channel();
        var body = SlackPayloads.UrlVerification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P").ToJsonString();
        var ts = clock.Now.ToUnixTimeSeconds();

        var result = channel.HandleEvent(body, ts.ToString(), FakeSlackServer.Sign(Secret, ts, body));

        Assert.Equal(InboundStatus.Challenge, result.Status);
        Assert.Equal("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", result.ResponseBody);
        Assert.Equal("text/plain", result.ResponseContentType);
    }

    [Fact]
    public void Should_ParseMentionIntoThread_When_AppMentionInChannel()
    {
        var (channel, clock) = Channel();
        var body = SlackPayloads.AppMention("C0LAN2Q65", "U061F7AUR", "is it everything a river should be? &amp; &lt;more&gt;", "1515449522.000016",
            eventId: "Ev0LAN670R").ToJsonString();
        var ts = clock.Now.ToUnixTimeSeconds();

        var message = channel.HandleEvent(body, ts.ToString(), FakeSlackServer.Sign(Secret, ts, body)).Message!;

        Assert.Equal("is it everything a river should be? & <more>", message.Text);
        Assert.Equal("C0LAN2Q65:1515449522.000016", message.ChannelMessageId);
        Assert.Equal(new ConversationId(ChannelKind.Slack, "acme", "C0LAN2Q65", "1515449522.000016"), message.Conversation);
        Assert.Equal("U061F7AUR", message.Sender.Id);
        Assert.Equal("Ev0LAN670R", message.Metadata["slack.event_id"]);
        Assert.Equal(body, message.RawPayload);
        Assert.Equal(clock.Now, message.ReceivedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1515449522000), message.SentAt);
        Assert.Equal("slack:acme:C0LAN2Q65:1515449522.000016", message.DeduplicationKey);
    }

    [Fact]
    public void Should_KeepDirectMessageUnthreaded_When_MessageIm()
    {
        var (channel, clock) = Channel();
        var body = SlackPayloads.DirectMessage("D024BE91L", "U2147483697", "hi", "1355517523.000005").ToJsonString();
        var ts = clock.Now.ToUnixTimeSeconds();

        var message = channel.HandleEvent(body, ts.ToString(), FakeSlackServer.Sign(Secret, ts, body)).Message!;

        Assert.Equal(new ConversationId(ChannelKind.Slack, "acme", "D024BE91L"), message.Conversation);
        Assert.Null(OutgoingMessage.ReplyTo(message, "hello").ThreadId);
    }

    [Fact]
    public void Should_ExposeRetryNumber_When_SlackRedelivers()
    {
        var (channel, clock) = Channel();
        var body = SlackPayloads.DirectMessage("D024BE91L", "U2147483697", "hi", "1355517523.000005").ToJsonString();
        var ts = clock.Now.ToUnixTimeSeconds();
        var first = channel.HandleEvent(body, ts.ToString(), FakeSlackServer.Sign(Secret, ts, body));

        var retry = channel.HandleEvent(body, ts.ToString(), FakeSlackServer.Sign(Secret, ts, body), "2", "http_timeout");

        Assert.Null(first.RetryNumber);
        Assert.Equal(2, retry.RetryNumber);
        Assert.Equal("http_timeout", retry.RetryReason);
        Assert.Equal(first.Message!.DeduplicationKey, retry.Message!.DeduplicationKey);
        Assert.Equal("2", retry.Message.Metadata["slack.retry_num"]);
    }

    [Theory]
    [InlineData("bot")]
    [InlineData("own")]
    [InlineData("edited")]
    [InlineData("channel")]
    public void Should_Ignore_When_BotMessageOrSubtypeOrNonImMessage(string kind)
    {
        var (channel, clock) = Channel();
        var payload = kind switch
        {
            "bot" => SlackPayloads.BotMessage("D024BE91L", "I am a bot", "1355517523.000006"),
            "own" => SlackPayloads.DirectMessage("D024BE91L", "UBOTSELF", "my own message", "1355517523.000007"),
            "edited" => SlackPayloads.DirectMessage("D024BE91L", "U2147483697", "changed", "1355517523.000008", subtype: "message_changed"),
            _ => SlackPayloads.DirectMessage("C024BE91L", "U2147483697", "channel chatter", "1355517523.000009"),
        };
        if (kind == "channel")
        {
            payload["event"]!["channel_type"] = "channel";
        }

        var body = payload.ToJsonString();
        var ts = clock.Now.ToUnixTimeSeconds();

        var result = channel.HandleEvent(body, ts.ToString(), FakeSlackServer.Sign(Secret, ts, body));

        Assert.Equal(InboundStatus.Ignored, result.Status);
        Assert.Equal(200, result.HttpStatusCode);
        Assert.Null(result.Message);
    }

    [Fact]
    public void Should_AcceptWithTheDeclaredSize_When_SharedFileIsTooLarge()
    {
        var (channel, clock) = Channel(maxBytes: 1024);
        var files = new JsonArray(SlackPayloads.File("big.pdf", "application/pdf", 4096));
        var body = SlackPayloads.DirectMessage("D024BE91L", "U2147483697", "see file", "1355517523.000010", files: files, subtype: "file_share")
            .ToJsonString();
        var ts = clock.Now.ToUnixTimeSeconds();

        var result = channel.HandleEvent(body, ts.ToString(), FakeSlackServer.Sign(Secret, ts, body));

        // Slack would retry a 413 and then give up: the message is taken and the gateway answers that the file is too large.
        Assert.Equal((InboundStatus.Accepted, 200), (result.Status, result.HttpStatusCode));
        var attachment = Assert.Single(result.Message!.Attachments);
        Assert.Equal(("big.pdf", 4096L), (attachment.Name, attachment.Size));
    }

    [Fact]
    public void Should_KeepFileReferences_When_FileFitsTheLimit()
    {
        var (channel, clock) = Channel();
        var files = new JsonArray(SlackPayloads.File("notes.txt", "text/plain", 120));
        var body = SlackPayloads.DirectMessage("D024BE91L", "U2147483697", "see file", "1355517523.000011", files: files, subtype: "file_share")
            .ToJsonString();
        var ts = clock.Now.ToUnixTimeSeconds();

        var attachment = Assert.Single(channel.HandleEvent(body, ts.ToString(), FakeSlackServer.Sign(Secret, ts, body)).Message!.Attachments);

        Assert.Equal(("notes.txt", "text/plain", 120L), (attachment.Name, attachment.ContentType, attachment.Size));
        Assert.StartsWith("https://files.slack.com/", attachment.SourceUri, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_RejectWith400_When_BodyIsNotJson()
    {
        var (channel, clock) = Channel();
        const string body = "{not json";
        var ts = clock.Now.ToUnixTimeSeconds();

        var result = channel.HandleEvent(body, ts.ToString(), FakeSlackServer.Sign(Secret, ts, body));

        Assert.Equal(RejectionReason.MalformedPayload, result.Reason);
        Assert.Equal(400, result.HttpStatusCode);
    }

    [Fact]
    public async Task Should_ReceiveSignedEventsOverHttp_When_FakeSlackSendsThem()
    {
        await using var slack = await FakeSlackServer.StartAsync(signingSecret: Secret);
        var channel = new SlackChannel("acme", Options(slack), Http.Client());
        var inbox = new List<IncomingMessage>();
        await using var endpoint = await LoopbackReceiver.StartAsync(request =>
        {
            var result = channel.HandleEvent(request.Body, request.Header(SlackSignature.TimestampHeader),
                request.Header(SlackSignature.SignatureHeader), request.Header(SlackSignature.RetryNumHeader));
            if (result.Message is { } m)
            {
                inbox.Add(m);
            }

            return Task.FromResult(new FakeResponse(result.HttpStatusCode, result.ResponseBody ?? result.Error ?? "", "text/plain"));
        });
        var url = endpoint.Url("channels/acme/slack/events");

        var challenge = await slack.SendEventAsync(url, SlackPayloads.UrlVerification("abc123"));
        var accepted = await slack.SendEventAsync(url, SlackPayloads.AppMention("C1", "U1", "hello", "1700000000.000100"));
        var retried = await slack.SendEventAsync(url, SlackPayloads.AppMention("C1", "U1", "hello", "1700000000.000100"), retryNum: 1);
        var forged = await slack.SendEventAsync(url, SlackPayloads.AppMention("C1", "U1", "hello", "1700000000.000200"), signingSecret: "forged");
        var stale = await slack.SendEventAsync(url, SlackPayloads.AppMention("C1", "U1", "hello", "1700000000.000300"),
            timestamp: DateTimeOffset.UtcNow.AddMinutes(-6));

        Assert.Equal((200, "abc123"), (challenge.Status, challenge.Body));
        Assert.Equal(200, accepted.Status);
        Assert.Equal(200, retried.Status);
        Assert.Equal(401, forged.Status);
        Assert.Equal(401, stale.Status);
        Assert.Equal(2, inbox.Count);
        Assert.Single(inbox.Select(m => m.DeduplicationKey).Distinct());
    }

    [Fact]
    public async Task Should_TurnButtonPressIntoMessage_When_BlockActionsArrive()
    {
        await using var slack = await FakeSlackServer.StartAsync(signingSecret: Secret);
        var channel = new SlackChannel("acme", Options(slack), Http.Client());
        InboundResult? received = null;
        await using var endpoint = await LoopbackReceiver.StartAsync(request =>
        {
            received = channel.HandleInteraction(request.Body, request.Header(SlackSignature.TimestampHeader), request.Header(SlackSignature.SignatureHeader));
            return Task.FromResult(new FakeResponse(received.HttpStatusCode, "", "text/plain"));
        });

        var response = await slack.SendInteractionAsync(endpoint.Url("channels/acme/slack/interactions"),
            SlackPayloads.BlockActions("D024BE91L", "U2147483697", "1700000000.000500", "yes"));

        Assert.Equal(200, response.Status);
        Assert.Equal("yes", received!.Message!.Text);
        Assert.Equal("D024BE91L:1700000000.000500", received.Message.ReplyToChannelMessageId);
    }

    [Fact]
    public async Task Should_PostMrkdwnInThread_When_SendingAReply()
    {
        await using var slack = await FakeSlackServer.StartAsync();
        var channel = new SlackChannel("acme", Options(slack), Http.Client());

        var result = await channel.SendAsync("C0LAN2Q65", new OutgoingMessage
        {
            Text = "**Done** & [details](https://example.com)",
            ThreadId = "1515449522.000016",
            QuickReplies = [new QuickReply("Yes", "yes"), new QuickReply("No", "no")],
        });

        Assert.True(result.IsSuccess, result.ToString());
        var posted = Assert.Single(slack.PostedMessages);
        Assert.Equal("*Done* &amp; <https://example.com|details>", posted.Text);
        Assert.Equal("1515449522.000016", posted.ThreadTs);
        Assert.Equal($"C0LAN2Q65:{posted.Ts}", Assert.Single(result.ChannelMessageIds));
        Assert.Equal(["yes", "no"], posted.Blocks![1]!["elements"]!.AsArray().Select(e => e!["value"]!.GetValue<string>()));
        var request = Assert.Single(slack.Requests);
        Assert.Equal($"Bearer {slack.BotToken}", request.Header("Authorization"));
        Assert.StartsWith("application/json; charset=utf-8", request.ContentType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_ReturnPermanentFailureWithSlackError_When_TokenIsWrong()
    {
        await using var slack = await FakeSlackServer.StartAsync();
        var channel = new SlackChannel("acme", Options(slack) with { BotToken = "xoxb-wrong" }, Http.Client());

        var result = await channel.SendAsync("C1", new OutgoingMessage { Text = "hi" });

        Assert.Equal(SendStatus.PermanentFailure, result.Status);
        Assert.Equal("invalid_auth", result.ErrorCode);
        Assert.Contains("invalid_auth", result.Error);
    }

    [Fact]
    public async Task Should_ReturnPermanentFailure_When_ChannelIsUnknown()
    {
        await using var slack = await FakeSlackServer.StartAsync();
        slack.KnownChannels.Add("C1");
        var channel = new SlackChannel("acme", Options(slack), Http.Client());

        var result = await channel.SendAsync("C404", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.PermanentFailure, "channel_not_found"), (result.Status, result.ErrorCode));
    }

    [Fact]
    public async Task Should_ReturnRetryableWithDelay_When_SlackRateLimits()
    {
        await using var slack = await FakeSlackServer.StartAsync();
        slack.RespondTooManyRequests(1, TimeSpan.FromSeconds(30));
        var channel = new SlackChannel("acme", Options(slack), Http.Client());

        var limited = await channel.SendAsync("C1", new OutgoingMessage { Text = "hi" });
        var next = await channel.SendAsync("C1", new OutgoingMessage { Text = "hi" });

        Assert.Equal(SendStatus.RetryableFailure, limited.Status);
        Assert.Equal(TimeSpan.FromSeconds(30), limited.RetryAfter);
        Assert.Equal(429, limited.HttpStatusCode);
        Assert.True(next.IsSuccess);
    }

    [Fact]
    public async Task Should_ReturnRetryable_When_SlackAnswers503()
    {
        await using var slack = await FakeSlackServer.StartAsync();
        slack.RespondServerError(1, 503);
        var channel = new SlackChannel("acme", Options(slack), Http.Client());

        var result = await channel.SendAsync("C1", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.RetryableFailure, 503), (result.Status, result.HttpStatusCode));
    }

    private static SlackOptions Options(FakeSlackServer slack) => new()
    {
        BotToken = slack.BotToken,
        SigningSecret = slack.SigningSecret,
        ApiBaseUrl = slack.ApiBaseUrl,
    };

    private static (SlackChannel Channel, ManualTimeProvider Clock) Channel(long maxBytes = AttachmentPolicy.DefaultMaxBytes)
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var options = new SlackOptions
        {
            BotToken = "xoxb-test",
            SigningSecret = Secret,
            BotUserId = "UBOTSELF",
            Attachments = new AttachmentPolicy { MaxBytes = maxBytes },
        };
        return (new SlackChannel("acme", options, Http.Client(), clock), clock);
    }
}
