using System.Text.Json.Nodes;
using Platform.Channels.Discord;
using Platform.Channels.Rendering;
using Platform.Channels.Webhooks;

namespace Platform.Channels.Tests;

public sealed class DiscordTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DiscordChannel Channel(FakeDiscordServer fake, string? botToken = "default", IReplayCache? replays = null) =>
        new("dc", new DiscordOptions
        {
            ApplicationId = fake.ApplicationId, PublicKey = fake.PublicKeyHex, BotToken = botToken == "default" ? fake.BotToken : botToken,
            ApiBaseUrl = fake.ApiBaseUrl,
        }, Http.Client(), replays);

    private static string Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Should_AnswerPong_When_DiscordSendsASignedPing()
    {
        await using var fake = await FakeDiscordServer.StartAsync();
        var body = fake.Ping().ToJsonString();
        var ts = Now;

        var result = await Channel(fake).HandleInteractionAsync(body, ts, fake.Sign(ts, body), Ct);

        Assert.Equal((InboundStatus.Challenge, "{\"type\":1}"), (result.Status, result.ResponseBody));
    }

    [Fact]
    public async Task Should_AcceptTheCommandAndDefer_When_ASlashCommandIsSigned()
    {
        await using var fake = await FakeDiscordServer.StartAsync();
        var body = fake.SlashCommand("1184213318474215111", "80351110224678912", "ask", "how many orders today?").ToJsonString();
        var ts = Now;

        var result = await Channel(fake).HandleInteractionAsync(body, ts, fake.Sign(ts, body), Ct);

        Assert.Equal((InboundStatus.Accepted, DiscordChannel.Deferred), (result.Status, result.ResponseBody));
        Assert.Equal(("how many orders today?", "1184213318474215111", "80351110224678912", "Discord User"),
            (result.Message!.Text, result.Message.Conversation.ChatId, result.Message.Sender.Id, result.Message.Sender.DisplayName));
        Assert.StartsWith("interaction:", result.Message.ChannelMessageId);
    }

    [Fact]
    public async Task Should_RejectWith401_When_TheSignatureIsForgedTheBodyChangedOrTheRequestReplayed()
    {
        await using var fake = await FakeDiscordServer.StartAsync();
        var channel = Channel(fake, replays: new InMemoryReplayCache());
        var body = fake.SlashCommand("1184213318474215111", "80351110224678912", "ask", "hello").ToJsonString();
        var ts = Now;
        var signature = fake.Sign(ts, body);
        await using var other = await FakeDiscordServer.StartAsync();

        var forged = await channel.HandleInteractionAsync(body, ts, other.Sign(ts, body), Ct);
        var tampered = await channel.HandleInteractionAsync(body.Replace("hello", "hacked", StringComparison.Ordinal), ts, signature, Ct);
        var stale = await channel.HandleInteractionAsync(body, "1700000000", fake.Sign("1700000000", body), Ct);
        var first = await channel.HandleInteractionAsync(body, ts, signature, Ct);
        var replayed = await channel.HandleInteractionAsync(body, ts, signature, Ct);
        var missing = await channel.HandleInteractionAsync(body, null, null, Ct);

        Assert.Equal(RejectionReason.InvalidSignature, forged.Reason);
        Assert.Equal(RejectionReason.InvalidSignature, tampered.Reason);
        Assert.Equal(RejectionReason.StaleTimestamp, stale.Reason);
        Assert.Equal(InboundStatus.Accepted, first.Status);
        Assert.Equal(RejectionReason.Replay, replayed.Reason);
        Assert.Equal(RejectionReason.MissingSignature, missing.Reason);
        Assert.All(new[] { forged, tampered, stale, replayed, missing }, r => Assert.Equal(401, r.HttpStatusCode));
    }

    [Fact]
    public async Task Should_EditTheDeferredResponseAndFollowUp_When_TheReplyAnswersAFreshInteraction()
    {
        await using var fake = await FakeDiscordServer.StartAsync();
        var interaction = fake.SlashCommand("1184213318474215111", "80351110224678912", "ask", "hi");
        var ts = Now;
        var body = interaction.ToJsonString();
        var channel = Channel(fake, botToken: null);
        var incoming = (await channel.HandleInteractionAsync(body, ts, fake.Sign(ts, body), Ct)).Message!;

        var result = await channel.SendAsync("1184213318474215111", new OutgoingMessage
        {
            Text = new string('a', 2500), ReplyToChannelMessageId = incoming.ChannelMessageId,
            QuickReplies = [new("Yes", "yes"), new("No", "no")],
        }, Ct);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["original", "followup"], fake.PostedMessages.Select(m => m.Route));
        Assert.Equal(2, fake.PostedMessages[1].Payload["components"]![0]!["components"]!.AsArray().Count);
        Assert.Empty(fake.PostedMessages[0].Payload["allowed_mentions"]!["parse"]!.AsArray());
    }

    [Fact]
    public async Task Should_PostAsTheBot_When_TheMessageAnswersNoInteraction()
    {
        await using var fake = await FakeDiscordServer.StartAsync();

        var result = await Channel(fake).SendAsync("1184213318474215222", new OutgoingMessage
        {
            Text = "Daily **report** @everyone",
            Attachments = [new MessageAttachment { Name = "chart.png", ContentType = "image/png", SourceUri = "https://cdn.example.com/chart.png" }],
        }, Ct);
        var typing = await Channel(fake).TriggerTypingAsync("1184213318474215222", Ct);

        Assert.True(result.IsSuccess, result.ToString());
        var posted = Assert.Single(fake.PostedMessages);
        Assert.Equal(("channel", "1184213318474215222"), (posted.Route, posted.ChannelId));
        Assert.Equal("Daily **report** \\@everyone", posted.Content);
        Assert.Equal("https://cdn.example.com/chart.png", posted.Payload["embeds"]![0]!["image"]!["url"]!.GetValue<string>());
        Assert.True(typing.IsSuccess);
        Assert.Equal(["1184213318474215222"], fake.Typing);
    }

    [Fact]
    public async Task Should_ReturnARetryableFailureWithTheDelay_When_DiscordAnswers429()
    {
        await using var fake = await FakeDiscordServer.StartAsync();
        fake.RespondTooManyRequests(1, TimeSpan.FromSeconds(3));

        var result = await Channel(fake).SendAsync("1184213318474215222", new OutgoingMessage { Text = "hello" }, Ct);

        Assert.Equal((SendStatus.RetryableFailure, 429, TimeSpan.FromSeconds(3)), (result.Status, result.HttpStatusCode, result.RetryAfter));
    }

    [Fact]
    public async Task Should_FailPermanently_When_TheBotTokenIsWrongOrMissing()
    {
        await using var fake = await FakeDiscordServer.StartAsync();

        var wrong = await Channel(fake, botToken: "nope").SendAsync("1184213318474215222", new OutgoingMessage { Text = "hello" }, Ct);
        var missing = await Channel(fake, botToken: null).SendAsync("1184213318474215222", new OutgoingMessage { Text = "hello" }, Ct);

        Assert.Equal((SendStatus.PermanentFailure, 401), (wrong.Status, wrong.HttpStatusCode));
        Assert.Equal("no_bot_token", missing.ErrorCode);
    }

    [Fact]
    public void Should_RenderDiscordMarkdown_When_TheTextHasMarkdown() =>
        Assert.Equal("**bold** *italic* ~~gone~~ [docs](<https://example.com>)",
            MessageRenderer.Render("**bold** *italic* ~~gone~~ [docs](https://example.com)", TextFormat.DiscordMarkdown));
}
