using Platform.Channels.Slack;
using Platform.Channels.Telegram;
using Platform.Testing.Fakes;

namespace Platform.Channels.Tests;

/// <summary>Typing indicators of the channel adapters against the fakes, which check the requests as the real APIs do.</summary>
public sealed class TypingTests
{
    [Fact]
    public async Task Should_SendChatActionTyping_When_A_Telegram_Chat_Is_Shown_Typing()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = new TelegramChannel("support", new TelegramOptions { BotToken = telegram.BotToken, ApiBaseUrl = telegram.BaseUrl }, Http.Client());

        var shown = await channel.SendTypingAsync("4242", threadId: "17", TestContext.Current.CancellationToken);

        Assert.True(shown);
        var action = Assert.Single(telegram.ChatActionsSent);
        Assert.Equal(("4242", "typing", 17L), (action.ChatId, action.Action, action.MessageThreadId));
        Assert.Equal(TimeSpan.FromSeconds(4), channel.TypingRefreshInterval);
    }

    [Fact]
    public async Task Should_ReportNoIndicator_When_Telegram_Refuses_The_Chat()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.KnownChatIds.Add("1");
        var channel = new TelegramChannel("support", new TelegramOptions { BotToken = telegram.BotToken, ApiBaseUrl = telegram.BaseUrl }, Http.Client());

        var shown = await channel.SendTypingAsync("4242", null, TestContext.Current.CancellationToken);

        Assert.False(shown);
        Assert.Equal(400, Assert.Single(telegram.Requests).ResponseStatus);
        Assert.Empty(telegram.ChatActionsSent);
    }

    [Fact]
    public async Task Should_SetTheAssistantThreadStatus_When_A_Slack_Thread_Is_Shown_Typing()
    {
        await using var slack = await FakeSlackServer.StartAsync();
        var channel = new SlackChannel("acme", new SlackOptions { BotToken = slack.BotToken, SigningSecret = slack.SigningSecret, ApiBaseUrl = slack.ApiBaseUrl }, Http.Client());

        var inThread = await channel.SendTypingAsync("C0LAN2Q65", "1700000000.000100", TestContext.Current.CancellationToken);
        var outsideThread = await channel.SendTypingAsync("C0LAN2Q65", null, TestContext.Current.CancellationToken);

        Assert.True(inThread);
        Assert.False(outsideThread); // Slack has no typing indicator for a bot message outside a thread
        Assert.Equal(("C0LAN2Q65", "1700000000.000100", "is typing..."), Assert.Single(slack.AssistantStatuses));
        var request = Assert.Single(slack.Requests);
        Assert.Equal("/api/assistant.threads.setStatus", request.Path);
        Assert.Equal("Bearer " + slack.BotToken, request.Header("Authorization"));
    }
}
