using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;
using Platform.Messaging;
using Platform.Messaging.Email;
using Platform.Testing;

namespace Platform.Channels.Integration.Tests;

/// <summary>The IMAP listener and the SMTP sender against the real Dovecot and SMTP server.</summary>
public sealed class EmailTransportTests : IDisposable
{
    private readonly TempDirectory _dir = new("email-transport");

    public void Dispose() => _dir.Dispose();

    private static EmailSettings Settings(string user, Action<JsonObject>? change = null)
    {
        var settings = new JsonObject();
        foreach (var (k, v) in MailServer.ChannelSettings(user)) settings[k] = v;
        change?.Invoke(settings);
        return EmailSettings.Read(new ChannelConfig { Name = "mail", Kind = ChannelKind.Email, Settings = settings });
    }

    /// <summary>Runs a listener until disposed, collecting what it hands over.</summary>
    private sealed class RunningListener : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _run;

        public RunningListener(EmailSettings settings, ImapCheckpointStore checkpoints)
        {
            Listener = new ImapListener(settings, checkpoints, (m, _, _) => { Received.Enqueue(m); return Task.CompletedTask; }, TimeProvider.System, NullLogger.Instance);
            Listener.Checked += _ => Interlocked.Increment(ref _passes);
            _run = Listener.RunAsync(_stop.Token);
        }

        private int _passes;
        public ImapListener Listener { get; }
        public ConcurrentQueue<IncomingMessage> Received { get; } = new();
        public int Passes => Volatile.Read(ref _passes);

        public async Task WaitAsync(Func<bool> condition, string what)
        {
            var until = DateTime.UtcNow.AddSeconds(30);
            while (!condition())
            {
                if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out waiting for {what}; received {Received.Count} mail(s).");
                await Task.Delay(50);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _run;
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task Should_HandOverEachMailOnce_When_TheListenerRestarts()
    {
        // Arrange
        var bot = MailServer.NewUser("bot");
        var user = MailServer.NewUser("user");
        var checkpoints = new ImapCheckpointStore(_dir.Path);
        await MailServer.SendAsync(user, bot, "First", "waiting before the first start");

        // Act
        IncomingMessage[] firstRun;
        await using (var listener = new RunningListener(Settings(bot), checkpoints))
        {
            await listener.WaitAsync(() => listener.Received.Count >= 1, "the mail that waited");
            await MailServer.SendAsync(user, bot, "Second", "while listening (IDLE)");
            await listener.WaitAsync(() => listener.Received.Count >= 2, "the mail sent while idling");
            Assert.True(listener.Listener.UsesIdle);
            firstRun = [.. listener.Received];
        }
        await MailServer.SendAsync(user, bot, "Third", "while stopped");
        IncomingMessage[] secondRun;
        await using (var listener = new RunningListener(Settings(bot), checkpoints))
        {
            await listener.WaitAsync(() => listener.Received.Count >= 1 && listener.Passes >= 1, "the mail sent while stopped");
            await Task.Delay(300);
            secondRun = [.. listener.Received];
        }

        // Assert
        Assert.Equal(["waiting before the first start", "while listening (IDLE)"], firstRun.Select(m => m.Text));
        Assert.Equal("while stopped", Assert.Single(secondRun).Text);
        var checkpoint = await checkpoints.LoadAsync("mail");
        Assert.Equal(3u, checkpoint!.LastUid);
        Assert.True(File.Exists(Path.Combine(_dir.Path, "mail.json")));
    }

    [Fact]
    public async Task Should_PollForMail_When_PollingIsUsed()
    {
        // Arrange
        var bot = MailServer.NewUser("bot");
        var user = MailServer.NewUser("user");
        var checkpoints = new ImapCheckpointStore(_dir.Path);

        // Act
        await using var listener = new RunningListener(Settings(bot, s => { s["useIdle"] = "false"; s["pollSeconds"] = "1"; }), checkpoints);
        await listener.WaitAsync(() => listener.Passes >= 1, "the first pass");
        var sent = await MailServer.SendAsync(user, bot, "Hello", "Hi there", m => m.Headers.Add("X-Test", "1"));
        await listener.WaitAsync(() => listener.Received.Count >= 1, "the mail");

        // Assert
        Assert.False(listener.Listener.UsesIdle);
        var incoming = Assert.Single(listener.Received);
        Assert.Equal(sent.MessageId, incoming.ChannelMessageId);
        Assert.Equal(MailServer.Address(user), incoming.Sender.Id);
        Assert.Equal("Hello", incoming.Conversation.ThreadId);
        Assert.Equal(ChannelKind.Email, incoming.ChannelKind);
    }

    [Fact]
    public async Task Should_DeliverHtmlAndTextWithThreadHeaders_When_ReplyingOverSmtp()
    {
        // Arrange
        var bot = MailServer.NewUser("bot");
        var user = MailServer.NewUser("user");
        var threads = new EmailThreadIndex();
        threads.Remember("question@client.test", ["root@client.test"]);
        var sender = new EmailChannelSender(Settings(bot), threads, NullLogger.Instance);
        var message = new OutgoingMessage
        {
            Text = "Your booking is **confirmed**.", ThreadId = "Booking", ReplyToChannelMessageId = "question@client.test", IdempotencyKey = "outbox-1",
            QuickReplies = [new QuickReply("Cancel", "Cancel")],
        };

        // Act
        var result = await sender.SendAsync(MailServer.Address(user), message);
        var mail = Assert.Single(await MailServer.WaitForInboxAsync(user, 1));

        // Assert
        Assert.Equal(SendStatus.Sent, result.Status);
        Assert.Equal("Re: Booking", mail.Subject);
        Assert.Equal("question@client.test", mail.InReplyTo);
        Assert.Equal(["root@client.test", "question@client.test"], mail.References);
        Assert.Equal($"outbox-1.mail@test.local", mail.MessageId);
        Assert.Equal(MailServer.Address(bot), mail.From.Mailboxes.Single().Address);
        Assert.Contains("<strong>confirmed</strong>", mail.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("Your booking is confirmed.", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("1. Cancel", mail.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_FailPermanently_When_TheRecipientIsNotAnAddress()
    {
        // Arrange
        var sender = new EmailChannelSender(Settings(MailServer.NewUser("bot")), new EmailThreadIndex(), NullLogger.Instance);

        // Act
        var result = await sender.SendAsync("not an address", new OutgoingMessage { Text = "hi" });

        // Assert
        Assert.Equal(SendStatus.PermanentFailure, result.Status);
        Assert.Contains("not an e-mail address", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_FailRetryably_When_TheSmtpServerIsDown()
    {
        // Arrange: a port nothing listens on
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var sender = new EmailChannelSender(Settings(MailServer.NewUser("bot"), s => s["smtpPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new EmailThreadIndex(), NullLogger.Instance);

        // Act
        var result = await sender.SendAsync("someone@test.local", new OutgoingMessage { Text = "hi" });

        // Assert
        Assert.Equal(SendStatus.RetryableFailure, result.Status);
        Assert.Contains($"127.0.0.1:{port}", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("useTls", "maybe", "useTls is 'maybe'")]
    [InlineData("imapPort", "99999", "imapPort is '99999'")]
    [InlineData("from", "no address", "not an e-mail address")]
    public void Should_ExplainTheSetting_When_AChannelIsConfiguredWrongly(string key, string value, string expected)
    {
        // Arrange
        // Act
        var e = Assert.Throws<ChannelConfigurationException>(() => Settings("bot", s => s[key] = value));

        // Assert
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
