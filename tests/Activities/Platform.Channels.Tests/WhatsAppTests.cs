using System.Text.Json.Nodes;
using Platform.Channels.Rendering;
using Platform.Channels.Webhooks;
using Platform.Channels.WhatsApp;

namespace Platform.Channels.Tests;

public sealed class WhatsAppTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static WhatsAppChannel Channel(FakeWhatsAppServer fake, string? template = null, IReplayCache? replays = null) =>
        new("wa", new WhatsAppOptions
        {
            PhoneNumberId = fake.PhoneNumberId, AccessToken = fake.AccessToken, AppSecret = fake.AppSecret, VerifyToken = "verify-me",
            ApiBaseUrl = fake.BaseUrl, TemplateName = template,
        }, Http.Client(), replays);

    [Fact]
    public async Task Should_AcceptAndParseTheMessage_When_TheSignatureIsMadeWithTheAppSecret()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();
        var body = fake.TextMessage("4915112345678", "wamid.ABC1", "how many orders today?", "Ada").ToJsonString();

        var delivery = await Channel(fake).HandleWebhookAsync(body, FakeWhatsAppServer.Sign(fake.AppSecret, body), Ct);

        Assert.Equal(InboundStatus.Accepted, delivery.Result.Status);
        var message = Assert.Single(delivery.Messages);
        Assert.Equal(("wamid.ABC1", "how many orders today?", "4915112345678", "Ada"),
            (message.ChannelMessageId, message.Text, message.Conversation.ChatId, message.Sender.DisplayName));
        Assert.Equal(ChannelKind.WhatsApp, message.Conversation.Kind);
    }

    [Theory]
    [InlineData("wrong-secret", false, RejectionReason.InvalidSignature)]
    [InlineData(null, true, RejectionReason.InvalidSignature)]
    public async Task Should_RejectWith401_When_TheSecretIsWrongOrTheBodyWasChanged(string? secret, bool tamper, RejectionReason reason)
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();
        var body = fake.TextMessage("4915112345678", "wamid.ABC2", "hello").ToJsonString();
        var signature = FakeWhatsAppServer.Sign(secret ?? fake.AppSecret, body);

        var delivery = await Channel(fake).HandleWebhookAsync(tamper ? body.Replace("hello", "transfer all", StringComparison.Ordinal) : body, signature, Ct);

        Assert.Equal((InboundStatus.Rejected, reason, 401), (delivery.Result.Status, delivery.Result.Reason, delivery.Result.HttpStatusCode));
        Assert.Empty(delivery.Messages);
    }

    [Fact]
    public async Task Should_FlagTheReplay_When_TheSameSignedDeliveryComesTwice()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();
        var channel = Channel(fake, replays: new InMemoryReplayCache());
        var body = fake.TextMessage("4915112345678", "wamid.ABC3", "hello").ToJsonString();
        var signature = FakeWhatsAppServer.Sign(fake.AppSecret, body);

        var first = await channel.HandleWebhookAsync(body, signature, Ct);
        var second = await channel.HandleWebhookAsync(body, signature, Ct);

        Assert.False(first.Replayed);
        Assert.True(second.Replayed);
    }

    [Fact]
    public async Task Should_AnswerTheChallenge_When_TheVerifyTokenMatches()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();
        var channel = Channel(fake);

        var ok = channel.HandleVerification("subscribe", "verify-me", "1158201444");
        var wrong = channel.HandleVerification("subscribe", "guess", "1158201444");
        var malformed = channel.HandleVerification("unsubscribe", "verify-me", null);

        Assert.Equal((InboundStatus.Challenge, "1158201444"), (ok.Status, ok.ResponseBody));
        Assert.Equal(403, wrong.HttpStatusCode);
        Assert.Equal(400, malformed.HttpStatusCode);
    }

    [Fact]
    public async Task Should_ParseButtonRepliesMediaAndStatuses_When_TheWebhookCarriesThem()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();
        var button = fake.Message("4915112345678", new JsonObject
        {
            ["from"] = "4915112345678", ["id"] = "wamid.B1", ["timestamp"] = "1712345678", ["type"] = "interactive",
            ["interactive"] = new JsonObject { ["type"] = "button_reply", ["button_reply"] = new JsonObject { ["id"] = "kitchen-light", ["title"] = "Kitchen" } },
        }).ToJsonString();
        var image = fake.Message("4915112345678", new JsonObject
        {
            ["from"] = "4915112345678", ["id"] = "wamid.I1", ["timestamp"] = "1712345679", ["type"] = "image",
            ["image"] = new JsonObject { ["id"] = "1003383421387256", ["mime_type"] = "image/jpeg", ["caption"] = "this one", ["sha256"] = "abc" },
        }).ToJsonString();
        var status = fake.Status("wamid.OUT1", "failed", "4915112345678", 131047).ToJsonString();
        var channel = Channel(fake);

        var b = await channel.HandleWebhookAsync(button, FakeWhatsAppServer.Sign(fake.AppSecret, button), Ct);
        var i = await channel.HandleWebhookAsync(image, FakeWhatsAppServer.Sign(fake.AppSecret, image), Ct);
        var s = await channel.HandleWebhookAsync(status, FakeWhatsAppServer.Sign(fake.AppSecret, status), Ct);

        Assert.Equal("kitchen-light", Assert.Single(b.Messages).Text);
        var attachment = Assert.Single(Assert.Single(i.Messages).Attachments);
        Assert.Equal(("this one", "whatsapp-media:1003383421387256", "image/jpeg"), (i.Messages[0].Text, attachment.SourceUri, attachment.ContentType));
        Assert.Equal(InboundStatus.Ignored, s.Result.Status);
        var report = Assert.Single(s.Statuses);
        Assert.Equal(("wamid.OUT1", "failed", "131047"), (report.MessageId, report.Status, report.ErrorCode));
        Assert.Contains("24 hours", report.Error);
    }

    [Fact]
    public async Task Should_SendFormattedTextAndReplyButtons_When_TheMessageHasThreeQuickReplies()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();

        var result = await Channel(fake).SendAsync("4915112345678", new OutgoingMessage
        {
            Text = "Which **light**? See [docs](https://example.com/lights)",
            QuickReplies = [new("Kitchen", "kitchen-light"), new("Bedroom", "bedroom-light"), new("Hall", "hall-light")],
        }, Ct);

        Assert.True(result.IsSuccess, result.ToString());
        var sent = Assert.Single(fake.SentMessages);
        Assert.Equal("interactive", sent.Type);
        Assert.Equal("Which *light*? See docs (https://example.com/lights)", sent.Text);
        Assert.Equal(3, sent.Payload["interactive"]!["action"]!["buttons"]!.AsArray().Count);
        Assert.Equal(sent.Id, Assert.Single(result.ChannelMessageIds));
    }

    [Fact]
    public async Task Should_SendAList_When_TheMessageHasMoreThanThreeQuickReplies()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();
        var replies = Enumerable.Range(1, 5).Select(i => new QuickReply($"Option {i}", $"option-{i}")).ToList();

        var result = await Channel(fake).SendAsync("4915112345678", new OutgoingMessage { Text = "Pick one", QuickReplies = replies }, Ct);

        Assert.True(result.IsSuccess, result.ToString());
        var sent = Assert.Single(fake.SentMessages);
        Assert.Equal("list", sent.Payload["interactive"]!["type"]!.GetValue<string>());
        Assert.Equal(5, sent.Payload["interactive"]!["action"]!["sections"]![0]!["rows"]!.AsArray().Count);
    }

    [Fact]
    public async Task Should_SendTheTemplate_When_TheCustomerIsOutsideThe24HourWindow()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();
        fake.OutsideWindow["4915112345678"] = true;

        var withTemplate = await Channel(fake, "service_reply").SendAsync("4915112345678", new OutgoingMessage { Text = "Your order\nhas shipped." }, Ct);
        var withoutTemplate = await Channel(fake).SendAsync("4915112345678", new OutgoingMessage { Text = "Your order has shipped." }, Ct);

        Assert.True(withTemplate.IsSuccess, withTemplate.ToString());
        var sent = Assert.Single(fake.SentMessages);
        Assert.Equal(("template", "Your order has shipped."), (sent.Type, sent.Text));
        Assert.Equal((SendStatus.PermanentFailure, "131047"), (withoutTemplate.Status, withoutTemplate.ErrorCode));
        Assert.Contains("templateName", withoutTemplate.Error);
    }

    [Fact]
    public async Task Should_SendMediaByLinkAndByUpload_When_TheMessageHasAttachments()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();

        var result = await Channel(fake).SendAsync("4915112345678", new OutgoingMessage
        {
            Text = "Here you go",
            Attachments =
            [
                new MessageAttachment { Name = "photo.jpg", ContentType = "image/jpeg", SourceUri = "https://cdn.example.com/photo.jpg" },
                new MessageAttachment { Name = "report.pdf", ContentType = "application/pdf", Content = new byte[] { 1, 2, 3 } },
            ],
        }, Ct);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["text", "image", "document"], fake.SentMessages.Select(m => m.Type));
        Assert.Equal("https://cdn.example.com/photo.jpg", fake.SentMessages[1].Text);
        Assert.StartsWith("media", fake.SentMessages[2].Text);
        Assert.Equal("report.pdf", fake.SentMessages[2].Payload["document"]!["filename"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_ReturnARetryableFailureWithTheDelay_When_GraphAnswers429()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();
        fake.RespondTooManyRequests(1, TimeSpan.FromSeconds(7));

        var result = await Channel(fake).SendAsync("4915112345678", new OutgoingMessage { Text = "hello" }, Ct);

        Assert.Equal((SendStatus.RetryableFailure, "130429", TimeSpan.FromSeconds(7)), (result.Status, result.ErrorCode, result.RetryAfter));
    }

    [Fact]
    public async Task Should_FailPermanently_When_TheAccessTokenIsWrong()
    {
        await using var fake = await FakeWhatsAppServer.StartAsync();
        var channel = new WhatsAppChannel("wa", new WhatsAppOptions
        {
            PhoneNumberId = fake.PhoneNumberId, AccessToken = "expired", AppSecret = fake.AppSecret, VerifyToken = "v", ApiBaseUrl = fake.BaseUrl,
        }, Http.Client());

        var result = await channel.SendAsync("4915112345678", new OutgoingMessage { Text = "hello" }, Ct);

        Assert.Equal((SendStatus.PermanentFailure, "190", 401), (result.Status, result.ErrorCode, result.HttpStatusCode));
    }

    [Theory]
    [InlineData("**bold** and *italic* and ~~gone~~", "*bold* and _italic_ and ~gone~")]
    [InlineData("```\nvar x = 1;\n```", "```var x = 1;```")]
    public void Should_RenderWhatsAppFormatting_When_TheTextHasMarkdown(string markdown, string expected) =>
        Assert.Equal(expected, MessageRenderer.Render(markdown, TextFormat.WhatsApp));
}
