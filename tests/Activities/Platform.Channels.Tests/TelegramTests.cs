using System.Text.Json.Nodes;
using Platform.Channels.Rendering;
using Platform.Channels.Telegram;

namespace Platform.Channels.Tests;

public sealed class TelegramTests
{
    private const string Secret = "wh-secret_0123456789";

    [Fact]
    public void Should_AcceptUpdate_When_SecretTokenMatches()
    {
        var channel = Offline();
        var body = TelegramPayloads.TextMessage(10001, 424242, 77, "Hello bot", replyToMessageId: 70).ToJsonString();

        var result = channel.HandleWebhook(Secret, body);

        Assert.Equal(InboundStatus.Accepted, result.Status);
        var message = result.Message!;
        Assert.Equal("Hello bot", message.Text);
        Assert.Equal("424242:77", message.ChannelMessageId);
        Assert.Equal("424242:70", message.ReplyToChannelMessageId);
        Assert.Equal(new ConversationId(ChannelKind.Telegram, "support", "424242"), message.Conversation);
        Assert.Equal(new ChannelUser("424242", "Ada Lovelace"), message.Sender);
        Assert.Equal("10001", message.Metadata["telegram.update_id"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), message.SentAt);
        Assert.Equal(body, message.RawPayload);
    }

    [Theory]
    [InlineData(null, RejectionReason.MissingSignature)]
    [InlineData("", RejectionReason.MissingSignature)]
    [InlineData("wh-secret_0123456788", RejectionReason.InvalidSignature)]
    [InlineData("wh-secret", RejectionReason.InvalidSignature)]
    public void Should_Reject_When_SecretTokenIsMissingOrWrong(string? header, RejectionReason reason)
    {
        var result = Offline().HandleWebhook(header, TelegramPayloads.TextMessage(1, 2, 3, "hi").ToJsonString());

        Assert.Equal((InboundStatus.Rejected, reason, 401), (result.Status, result.Reason, result.HttpStatusCode));
    }

    [Fact]
    public void Should_RejectEverything_When_NoSecretIsConfigured()
    {
        var channel = new TelegramChannel("support", new TelegramOptions { BotToken = "1:x" }, Http.Client());

        var result = channel.HandleWebhook("anything", TelegramPayloads.TextMessage(1, 2, 3, "hi").ToJsonString());

        Assert.Equal(RejectionReason.MissingSignature, result.Reason);
        Assert.Contains("WebhookSecretToken", result.Error);
    }

    [Fact]
    public void Should_TurnButtonPressIntoMessage_When_CallbackQuery()
    {
        var result = Offline().HandleWebhook(Secret, TelegramPayloads.CallbackQuery(10002, 424242, 88, "yes", "cbq-1").ToJsonString());

        var message = result.Message!;
        Assert.Equal("yes", message.Text);
        Assert.Equal("callback:cbq-1", message.ChannelMessageId);
        Assert.Equal("424242:88", message.ReplyToChannelMessageId);
        Assert.Equal("cbq-1", message.Metadata["telegram.callback_query_id"]);
    }

    [Theory]
    [InlineData("bot")]
    [InlineData("edited")]
    public void Should_Ignore_When_BotMessageOrEdit(string kind)
    {
        var update = kind == "bot" ? TelegramPayloads.BotMessage(3, -100123, 5, "beep") : TelegramPayloads.EditedMessage(4, 42, 6, "changed");

        var result = Offline().HandleWebhook(Secret, update.ToJsonString());

        Assert.Equal((InboundStatus.Ignored, 200), (result.Status, result.HttpStatusCode));
    }

    [Fact]
    public void Should_KeepFileReference_When_DocumentFitsTheLimit()
    {
        var result = Offline().HandleWebhook(Secret,
            TelegramPayloads.DocumentMessage(5, 42, 9, "report.pdf", "application/pdf", 2048, "FILE-1", caption: "my report").ToJsonString());

        var attachment = Assert.Single(result.Message!.Attachments);
        Assert.Equal("my report", result.Message.Text);
        Assert.Equal(("report.pdf", "application/pdf", 2048L, "telegram-file:FILE-1"),
            (attachment.Name, attachment.ContentType, attachment.Size, attachment.SourceUri));
    }

    [Fact]
    public void Should_AcceptWithTheDeclaredSize_When_DocumentIsLargerThan50Mb()
    {
        // A 413 would make Telegram retry and then drop the update: the user would hear nothing. The message is taken, and the
        // gateway answers "That file is too large…" (InboundAttachmentTests).
        var result = Offline().HandleWebhook(Secret,
            TelegramPayloads.DocumentMessage(6, 42, 10, "huge.iso", "application/octet-stream", 50L * 1024 * 1024 + 1).ToJsonString());

        Assert.Equal((InboundStatus.Accepted, 200), (result.Status, result.HttpStatusCode));
        var attachment = Assert.Single(result.Message!.Attachments);
        Assert.Equal(("huge.iso", 50L * 1024 * 1024 + 1), (attachment.Name, attachment.Size));
    }

    [Fact]
    public void Should_RejectWith400_When_UpdateIsMalformed()
    {
        Assert.Equal(400, Offline().HandleWebhook(Secret, "[1,2").HttpStatusCode);
        Assert.Equal(400, Offline().HandleWebhook(Secret, "{\"message\":{}}").HttpStatusCode);
        Assert.Equal(400, Offline().HandleWebhook(Secret, "{\"update_id\":1,\"message\":{\"text\":\"no chat\"}}").HttpStatusCode);
    }

    [Fact]
    public async Task Should_SendHtmlThatTelegramParses_When_SendingMarkdown()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = Online(telegram);

        var result = await channel.SendAsync("424242", new OutgoingMessage
        {
            Text = "**Invoice #42** for <Ada & Co> is `ready`",
            ReplyToChannelMessageId = "424242:77",
            QuickReplies = [new QuickReply("Pay now", "pay:42"), new QuickReply("Later", "later")],
        });

        Assert.True(result.IsSuccess, result.ToString());
        var sent = Assert.Single(telegram.SentMessages);
        Assert.Equal("HTML", sent.ParseMode);
        Assert.Equal("<b>Invoice #42</b> for &lt;Ada &amp; Co&gt; is <code>ready</code>", sent.Text);
        Assert.Equal("Invoice #42 for <Ada & Co> is ready", sent.PlainText);
        Assert.Equal(77, sent.ReplyToMessageId);
        Assert.Equal("pay:42", sent.ReplyMarkup!["inline_keyboard"]![0]![0]!["callback_data"]!.GetValue<string>());
        Assert.Equal($"424242:{sent.MessageId}", Assert.Single(result.ChannelMessageIds));
        Assert.Equal($"/bot{telegram.BotToken}/sendMessage", Assert.Single(telegram.Requests).Path);
    }

    [Fact]
    public async Task Should_SendMarkdownV2ThatTelegramParses_When_ParseModeIsMarkdownV2()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = Online(telegram, TextFormat.TelegramMarkdownV2);

        var result = await channel.SendAsync("424242", new OutgoingMessage { Text = "Total: **1.5 kg** (approx.) - see [v2](https://e.com/a_(1))!" });

        Assert.True(result.IsSuccess, result.ToString());
        var sent = Assert.Single(telegram.SentMessages);
        Assert.Equal("MarkdownV2", sent.ParseMode);
        Assert.Equal("Total: 1.5 kg (approx.) - see v2!", sent.PlainText);
    }

    [Fact]
    public async Task Should_SplitIntoParsableParts_When_TextExceeds4096()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = Online(telegram);
        var markdown = string.Join("\n\n", Enumerable.Range(1, 120).Select(i => $"**{i}.** Paragraph with <html> & emoji 😀 {new string('x', 40)}"));

        var result = await channel.SendAsync("424242", new OutgoingMessage
        {
            Text = markdown,
            ReplyToChannelMessageId = "424242:5",
            QuickReplies = [new QuickReply("OK", "ok")],
        });

        Assert.True(result.IsSuccess, result.ToString());
        var sent = telegram.SentMessages;
        Assert.True(sent.Count >= 2);
        Assert.Equal(sent.Count, result.TotalParts);
        Assert.All(sent, m => Assert.True(m.Text.Length <= 4096));
        Assert.Equal(5, sent[0].ReplyToMessageId);
        Assert.All(sent.Skip(1), m => Assert.Null(m.ReplyToMessageId));
        Assert.NotNull(sent[^1].ReplyMarkup);
        Assert.All(sent.SkipLast(1), m => Assert.Null(m.ReplyMarkup));
        Assert.Equal(120, string.Concat(sent.Select(m => m.PlainText)).Split("Paragraph").Length - 1);
    }

    [Fact]
    public async Task Should_ResumeAfterDeliveredParts_When_RetryingWithSkipParts()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = Online(telegram);
        var message = new OutgoingMessage { Text = string.Join("\n\n", Enumerable.Repeat(new string('a', 3000), 3)) };

        var first = await channel.SendAsync("424242", message);
        telegram.ClearRequests();
        telegram.RespondTooManyRequests(1, TimeSpan.FromSeconds(1));
        var failed = await channel.SendAsync("424242", message with { SkipParts = 1 });
        var resumed = await channel.SendAsync("424242", message with { SkipParts = failed.PartsDelivered });

        Assert.Equal((3, 3), (first.TotalParts, first.PartsDelivered));
        Assert.Equal((SendStatus.RetryableFailure, 1), (failed.Status, failed.PartsDelivered));
        Assert.True(resumed.IsSuccess);
        Assert.Equal(2, resumed.ChannelMessageIds.Count);
        Assert.Equal(3 + 2, telegram.SentMessages.Count);
    }

    [Fact]
    public async Task Should_ReturnRetryableWithRetryAfter_When_Telegram429()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.RespondTooManyRequests(1, TimeSpan.FromSeconds(35));
        var channel = Online(telegram);

        var result = await channel.SendAsync("424242", new OutgoingMessage { Text = "hi" });

        Assert.Equal(SendStatus.RetryableFailure, result.Status);
        Assert.Equal(TimeSpan.FromSeconds(35), result.RetryAfter);
        Assert.Equal("429", result.ErrorCode);
        Assert.Contains("Too Many Requests: retry after 35", result.Error);
    }

    [Fact]
    public async Task Should_ReturnRetryable_When_Telegram5xx()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.RespondServerError(1, 502);
        var channel = Online(telegram);

        var result = await channel.SendAsync("424242", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.RetryableFailure, 502), (result.Status, result.HttpStatusCode));
    }

    [Fact]
    public async Task Should_ReturnRetryable_When_TelegramTimesOut()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.DelayNext(1, TimeSpan.FromSeconds(5));
        var channel = new TelegramChannel("support", Online(telegram).Options with { RequestTimeout = TimeSpan.FromMilliseconds(300) }, Http.Client());

        var result = await channel.SendAsync("424242", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.RetryableFailure, "timeout"), (result.Status, result.ErrorCode));
    }

    [Fact]
    public async Task Should_ReturnPermanentWithTelegramText_When_ChatNotFound()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.KnownChatIds.Add("1");
        var channel = Online(telegram);

        var result = await channel.SendAsync("999", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.PermanentFailure, 400, "400"), (result.Status, result.HttpStatusCode, result.ErrorCode));
        Assert.Equal("Telegram: Bad Request: chat not found", result.Error);
    }

    [Fact]
    public async Task Should_ReturnPermanentUnauthorized_When_TokenIsWrong()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = new TelegramChannel("support", Online(telegram).Options with { BotToken = "123456:wrong" }, Http.Client());

        var result = await channel.SendAsync("424242", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.PermanentFailure, 401), (result.Status, result.HttpStatusCode));
        Assert.Contains("Unauthorized", result.Error);
        Assert.DoesNotContain("wrong", result.Error);
    }

    [Fact]
    public async Task Should_FailBeforeSending_When_QuickReplyValueExceeds64Bytes()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();

        var result = await Online(telegram).SendAsync("1", new OutgoingMessage { Text = "pick", QuickReplies = [new("Long", new string('é', 33))] });

        Assert.Equal(SendStatus.PermanentFailure, result.Status);
        Assert.Contains("64 bytes", result.Error);
        Assert.Empty(telegram.Requests);
    }

    [Fact]
    public async Task Should_UploadDocument_When_AttachmentHasBytes()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();

        var result = await Online(telegram).SendAsync("424242", new OutgoingMessage
        {
            Text = "Here it is",
            Attachments = [new MessageAttachment { Name = "a.txt", ContentType = "text/plain", Content = "hello"u8.ToArray() }],
        });

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["sendMessage", "sendDocument"], telegram.SentMessages.Select(m => m.Method));
        Assert.Equal("a.txt", telegram.SentMessages[1].Text);
        Assert.StartsWith("multipart/form-data", telegram.Requests[1].ContentType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_RegisterWebhookWithSecret_When_SettingWebhook()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = Online(telegram);

        var response = await channel.SetWebhookAsync(new Uri("https://bots.example.com/channels/support/telegram/webhook"));
        var polling = await channel.Api.GetUpdatesAsync(null, 0);

        Assert.True(response.Ok, response.Description);
        Assert.Equal("https://bots.example.com/channels/support/telegram/webhook", telegram.WebhookUrl);
        Assert.Equal(Secret, telegram.WebhookSecretToken);
        Assert.Equal(409, polling.HttpStatusCode);
        Assert.Contains("webhook is active", polling.Description);
    }

    [Fact]
    public async Task Should_ReceiveWebhookOverHttp_When_FakeTelegramPostsUpdates()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = Online(telegram);
        var inbox = new List<IncomingMessage>();
        await using var endpoint = await LoopbackReceiver.StartAsync(request =>
        {
            var result = channel.HandleWebhook(request.Header(TelegramChannel.SecretTokenHeader), request.Body);
            if (result.Message is { } m)
            {
                inbox.Add(m);
            }

            return Task.FromResult(new FakeResponse(result.HttpStatusCode, result.Error ?? "", "text/plain"));
        });
        var url = endpoint.Url("channels/support/telegram/webhook");

        var ok = await telegram.SendUpdateAsync(url, TelegramPayloads.TextMessage(20001, 42, 1, "first"), Secret);
        var wrong = await telegram.SendUpdateAsync(url, TelegramPayloads.TextMessage(20002, 42, 2, "forged"), "not-the-secret");
        var missing = await telegram.SendUpdateAsync(url, TelegramPayloads.TextMessage(20003, 42, 3, "forged"), null);

        Assert.Equal((200, 401, 401), (ok.Status, wrong.Status, missing.Status));
        Assert.Equal("first", Assert.Single(inbox).Text);
    }

    [Fact]
    public async Task Should_PersistOffsetAfterEachUpdate_When_LongPolling()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = Online(telegram);
        var offsets = new InMemoryTelegramOffsetStore();
        var poller = new TelegramLongPoller(channel, offsets);
        telegram.EnqueueUpdate(TelegramPayloads.TextMessage(30001, 42, 1, "one"));
        telegram.EnqueueUpdate(TelegramPayloads.EditedMessage(30002, 42, 1, "one!"));
        telegram.EnqueueUpdate(TelegramPayloads.TextMessage(30003, 42, 2, "two"));
        var handled = new List<InboundResult>();

        var (count, response) = await poller.PollOnceAsync((r, _) => { handled.Add(r); return Task.CompletedTask; }, timeoutSeconds: 0);
        var (again, _) = await poller.PollOnceAsync((r, _) => { handled.Add(r); return Task.CompletedTask; }, timeoutSeconds: 0);

        Assert.True(response.Ok);
        Assert.Equal((3, 0), (count, again));
        Assert.Equal([InboundStatus.Accepted, InboundStatus.Ignored, InboundStatus.Accepted], handled.Select(h => h.Status));
        Assert.Equal(30004, await offsets.LoadAsync("support", default));
        Assert.Equal(0, telegram.PendingUpdates);
        Assert.Equal("30004", telegram.Requests[^1].Json!["offset"]!.ToJsonString());
    }

    [Fact]
    public async Task Should_RedeliverUpdate_When_HandlerFailsBeforeStoring()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = Online(telegram);
        var offsets = new InMemoryTelegramOffsetStore();
        var poller = new TelegramLongPoller(channel, offsets);
        telegram.EnqueueUpdate(TelegramPayloads.TextMessage(40001, 42, 1, "one"));
        telegram.EnqueueUpdate(TelegramPayloads.TextMessage(40002, 42, 2, "two"));
        var stored = new List<string>();

        await Assert.ThrowsAsync<IOException>(() => poller.PollOnceAsync((r, _) =>
            r.Message!.Text == "two" ? throw new IOException("database down") : Task.Run(() => stored.Add(r.Message.Text)), timeoutSeconds: 0));
        var (count, _) = await poller.PollOnceAsync((r, _) => Task.Run(() => stored.Add(r.Message!.Text)), timeoutSeconds: 0);

        Assert.Equal(1, count);
        Assert.Equal(["one", "two"], stored);
        Assert.Equal(40003, await offsets.LoadAsync("support", default));
    }

    [Fact]
    public async Task Should_WaitForNewUpdates_When_LongPollIsOpen()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var poller = new TelegramLongPoller(Online(telegram), new InMemoryTelegramOffsetStore());
        var received = new TaskCompletionSource<IncomingMessage>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = poller.RunAsync((r, _) => { received.TrySetResult(r.Message!); return Task.CompletedTask; }, stop.Token);

        await Task.Delay(200);
        telegram.EnqueueUpdate(TelegramPayloads.TextMessage(50001, 42, 1, "late"));
        var message = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await run;

        Assert.Equal("late", message.Text);
    }

    [Fact]
    public async Task Should_DownloadFile_When_UnderTheLimit()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.AddFile("FILE-9", "documents/file_9.bin", [1, 2, 3, 250]);
        var channel = Online(telegram);

        var bytes = await channel.Api.DownloadFileAsync("FILE-9", "file_9.bin");
        var tooBig = new TelegramChannel("support", channel.Options with { Attachments = new AttachmentPolicy { MaxBytes = 3 } }, Http.Client());

        Assert.Equal([1, 2, 3, 250], bytes);
        await Assert.ThrowsAsync<AttachmentTooLargeException>(() => tooBig.Api.DownloadFileAsync("FILE-9", "file_9.bin"));
    }

    private static TelegramChannel Offline() =>
        new("support", new TelegramOptions { BotToken = "123456:offline", WebhookSecretToken = Secret }, Http.Client());

    private static TelegramChannel Online(FakeTelegramServer telegram, TextFormat mode = TextFormat.TelegramHtml) => new("support", new TelegramOptions
    {
        BotToken = telegram.BotToken,
        WebhookSecretToken = Secret,
        ApiBaseUrl = telegram.BaseUrl,
        ParseMode = mode,
    }, Http.Client());
}
