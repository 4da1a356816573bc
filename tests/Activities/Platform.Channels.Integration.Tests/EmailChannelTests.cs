using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging.Email;

namespace Platform.Channels.Integration.Tests;

/// <summary>Mail in over IMAP, a workflow, the reply out over SMTP: the whole way, against the real mail stack.</summary>
[Collection(ChannelServer.Collection)]
public sealed class EmailChannelTests
{
    private static async Task<IReadOnlyList<InboxMessage>> InboxAsync(ChannelServer server) =>
        (await server.Services.GetRequiredService<IInboxStore>().ListAsync("mail", null, new PageArgs(0, 50))).Items;

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Should_AnswerByMailInTheThread_When_AMailStartsAWorkflow()
    {
        // Arrange
        var bot = MailServer.NewUser("bot");
        var user = MailServer.NewUser("user");
        await using var server = new ChannelServer(new Dictionary<string, string?>(ChannelServer.Channel("mail", "Email", MailServer.ChannelSettings(bot))));
        await server.PublishEchoWorkflowAsync("mail", "Thanks, **we are open** from 9 to 5.");

        // Act
        var question = await MailServer.SendAsync(user, bot, "Opening hours", "When are you open?\n\n-- \nJane");
        var reply = Assert.Single(await MailServer.WaitForInboxAsync(user, 1));

        // Assert
        Assert.Equal("Re: Opening hours", reply.Subject);
        Assert.Equal(question.MessageId, reply.InReplyTo);
        Assert.Equal([question.MessageId!], reply.References);
        Assert.Contains("we are open from 9 to 5", reply.TextBody, StringComparison.Ordinal);
        Assert.Contains("<strong>we are open</strong>", reply.HtmlBody, StringComparison.Ordinal);
        var stored = Assert.Single(await InboxAsync(server));
        Assert.Equal($"email:mail:{question.MessageId}", stored.DeduplicationKey);
        Assert.Equal($"email:mail:{Uri.EscapeDataString(MailServer.Address(user))}:Opening%20hours", stored.ConversationKey);
        Assert.Contains("When are you open?", stored.Payload, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "channels", "email", "mail.json")), "The checkpoint file is missing.");
    }

    [Fact]
    public async Task Should_NotAnswerTwice_When_TheListenerRestarts()
    {
        // Arrange
        var bot = MailServer.NewUser("bot");
        var user = MailServer.NewUser("user");
        await using var server = new ChannelServer(new Dictionary<string, string?>(ChannelServer.Channel("mail", "Email", MailServer.ChannelSettings(bot))));
        await server.PublishEchoWorkflowAsync("mail", "Got it.");
        var listeners = server.Services.GetRequiredService<EmailListenerService>();
        await MailServer.SendAsync(user, bot, "One", "first");
        await MailServer.WaitForInboxAsync(user, 1);

        // Act
        await listeners.RestartAsync("mail");
        await WaitAsync(() => Task.FromResult(listeners.Listeners.TryGetValue("mail", out var l) && l.IsConnected), "the listener to reconnect");
        await MailServer.SendAsync(user, bot, "Two", "second");
        var replies = await MailServer.WaitForInboxAsync(user, 2);
        await Task.Delay(1000); // a duplicate would be answered within this time

        // Assert
        Assert.Equal(["Re: One", "Re: Two"], (await MailServer.ReadInboxAsync(user)).Select(m => m.Subject).Order());
        Assert.Equal(2, replies.Count);
        var inbox = await InboxAsync(server);
        Assert.Equal(2, inbox.Count);
        Assert.All(inbox, m => Assert.Equal(InboxStatus.Processed, m.Status));
    }
}
