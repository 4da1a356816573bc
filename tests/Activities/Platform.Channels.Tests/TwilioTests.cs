using Platform.Channels.Twilio;

namespace Platform.Channels.Tests;

public sealed class TwilioTests
{
    [Fact]
    public void Should_MatchTwilioScheme_When_ComputingSignature()
    {
        var parameters = new Dictionary<string, string>
        {
            ["To"] = "+18005551212",
            ["From"] = "+14158675310",
            ["Body"] = "Ahoy & welcome",
            ["MessageSid"] = "SM123",
            ["AccountSid"] = "AC1",
        };
        const string url = "https://example.com/channels/sms/twilio/messages?tenant=a";

        var signature = TwilioSignature.Compute("token-1", url, parameters);

        Assert.Equal(FakeTwilioServer.Sign("token-1", url, parameters), signature);
        Assert.True(TwilioSignature.IsValid("token-1", signature, url, [.. parameters]));
        Assert.False(TwilioSignature.IsValid("token-2", signature, url, [.. parameters]));
        Assert.False(TwilioSignature.IsValid("token-1", signature, url.Replace("tenant=a", "tenant=b", StringComparison.Ordinal), [.. parameters]));
        Assert.True(TwilioSignature.IsValid("token-1", TwilioSignature.Compute("token-1", "https://example.com:443/x", parameters),
            "https://example.com/x", [.. parameters]));
    }

    [Fact]
    public async Task Should_AcceptAndAnswerEmptyTwiml_When_SignatureIsValid()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        var channel = Channel(twilio);
        await using var endpoint = await Endpoint(channel);
        var url = endpoint.Url("channels/sms/twilio/messages");

        var response = await twilio.SendIncomingMessageAsync(url, "+14158675310", "+15017122661", "Hello + goodbye & more", "SMabc",
            media: [("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg")]);

        Assert.Equal(200, response.Status);
        Assert.Equal("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>", response.Body);
        Assert.StartsWith("text/xml", response.ContentType, StringComparison.Ordinal);
        var message = endpoint.Inbox.Single();
        Assert.Equal("Hello + goodbye & more", message.Text);
        Assert.Equal("SMabc", message.ChannelMessageId);
        Assert.Equal(new ConversationId(ChannelKind.Sms, "sms", "+14158675310"), message.Conversation);
        Assert.Equal("+15017122661", message.Metadata["twilio.To"]);
        var media = Assert.Single(message.Attachments);
        Assert.Equal(("image/jpeg", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"), (media.ContentType, media.SourceUri));
    }

    [Fact]
    public async Task Should_Reject_When_SignedWithAnotherTokenOrUrlOrTampered()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        var channel = Channel(twilio);
        await using var endpoint = await Endpoint(channel);
        var url = endpoint.Url("channels/sms/twilio/messages");

        var wrongToken = await twilio.SendIncomingMessageAsync(url, "+14158675310", "+15017122661", "hi", authToken: "another-token");
        var wrongUrl = await twilio.SendIncomingMessageAsync(url, "+14158675310", "+15017122661", "hi", signedUrl: "https://evil.example/hook");
        var tampered = await twilio.SendIncomingMessageAsync(url, "+14158675310", "+15017122661", "hi",
            tamperedBody: "Body=pay+me&From=%2B14158675310&MessageSid=SMx");

        Assert.Equal((401, 401, 401), (wrongToken.Status, wrongUrl.Status, tampered.Status));
        Assert.Empty(endpoint.Inbox);
        Assert.Contains("X-Twilio-Signature", wrongToken.Body);
    }

    [Fact]
    public async Task Should_ParseDeliveryStatus_When_StatusCallbackArrives()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        var channel = Channel(twilio);
        TwilioStatusCallbackResult? parsed = null;
        await using var endpoint = await LoopbackReceiver.StartAsync(request =>
        {
            parsed = channel.HandleStatusCallback(request.Url, request.Body, request.Header(TwilioSignature.Header));
            return Task.FromResult(new FakeResponse(parsed.Result.HttpStatusCode, "", "text/plain"));
        });

        var response = await twilio.SendStatusCallbackAsync(endpoint.Url("channels/sms/twilio/status"), "SM42", "undelivered", "30003");

        Assert.Equal(200, response.Status);
        Assert.Equal(("SM42", "undelivered", "30003", true), (parsed!.Status!.MessageSid, parsed.Status.Status, parsed.Status.ErrorCode, parsed.Status.IsFailed));
    }

    [Fact]
    public async Task Should_PostFormWithBasicAuth_When_Sending()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        var channel = Channel(twilio, statusCallback: new Uri("https://bots.example.com/channels/sms/twilio/status"));

        var result = await channel.SendAsync("+14158675310", new OutgoingMessage
        {
            Text = "**Your code** is 1234 & expires soon",
            QuickReplies = [new QuickReply("Yes", "YES"), new QuickReply("STOP", "STOP")],
        });

        Assert.True(result.IsSuccess, result.ToString());
        var created = Assert.Single(twilio.CreatedMessages);
        Assert.Equal("Your code is 1234 & expires soon\n\n• Yes: reply YES\n• STOP", created.Body);
        Assert.Equal(("+14158675310", "+15017122661"), (created.To, created.From));
        Assert.Equal("https://bots.example.com/channels/sms/twilio/status", created.StatusCallback);
        Assert.Equal(created.Sid, Assert.Single(result.ChannelMessageIds));
        var request = Assert.Single(twilio.Requests);
        Assert.Equal($"/2010-04-01/Accounts/{twilio.AccountSid}/Messages.json", request.Path);
        Assert.StartsWith("Basic ", request.Header("Authorization"), StringComparison.Ordinal);
        Assert.StartsWith("application/x-www-form-urlencoded", request.ContentType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_NameTheOutboxMessageInEveryPartsStatusCallback_When_SendingWithAnIdempotencyKey()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        var channel = Channel(twilio, statusCallback: new Uri("https://bots.example.com/channels/sms/twilio/status?tenant=a"));
        var text = string.Join(" ", Enumerable.Range(1, 400).Select(i => $"word{i}."));

        var result = await channel.SendAsync("+14158675310", new OutgoingMessage { Text = text, IdempotencyKey = "0193a/b c" });

        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(twilio.CreatedMessages.Count >= 2);
        Assert.All(twilio.CreatedMessages, m =>
            Assert.Equal("https://bots.example.com/channels/sms/twilio/status?tenant=a&outbox=0193a%2Fb%20c", m.StatusCallback));
        Assert.Equal(twilio.CreatedMessages.Select(m => m.Sid), result.ChannelMessageIds);
        Assert.Equal("https://x.example/s?outbox=k", TwilioChannel.StatusCallbackFor(new Uri("https://x.example/s"), "k"));
        Assert.Equal("https://x.example/s", TwilioChannel.StatusCallbackFor(new Uri("https://x.example/s"), null));
    }

    [Fact]
    public void Should_DescribeTheErrorCodeWithItsMeaningAndLink_When_AStatusIsAFailure()
    {
        var undelivered = new TwilioMessageStatus { MessageSid = "SM1", Status = "undelivered", ErrorCode = "30003" };
        var unknownCode = new TwilioMessageStatus { MessageSid = "SM1", Status = "failed", ErrorCode = "39999" };
        var noCode = new TwilioMessageStatus { MessageSid = "SM1", Status = "failed" };

        Assert.Equal("Twilio reports the SMS undelivered, error 30003 (unreachable destination handset), https://www.twilio.com/docs/errors/30003",
            undelivered.Describe());
        Assert.Equal("Twilio reports the SMS failed, error 39999, https://www.twilio.com/docs/errors/39999", unknownCode.Describe());
        Assert.Equal("Twilio reports the SMS failed (no error code given).", noCode.Describe());
    }

    [Fact]
    public async Task Should_SplitAt1600_When_SmsIsLong()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        var text = string.Join(" ", Enumerable.Range(1, 500).Select(i => $"word{i}."));

        var result = await Channel(twilio).SendAsync("+14158675310", new OutgoingMessage { Text = text });

        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(twilio.CreatedMessages.Count >= 3);
        Assert.All(twilio.CreatedMessages, m => Assert.True(m.Body!.Length <= 1600));
        Assert.Equal(text, string.Join(" ", twilio.CreatedMessages.Select(m => m.Body)));
    }

    [Fact]
    public async Task Should_ReturnPermanentWithTwilioMessage_When_NumberIsInvalid()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();

        var result = await Channel(twilio).SendAsync("555-1234", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.PermanentFailure, 400, "21211"), (result.Status, result.HttpStatusCode, result.ErrorCode));
        Assert.Contains("Invalid 'To' Phone Number: 555-1234", result.Error);
        Assert.Contains("https://www.twilio.com/docs/errors/21211", result.Error);
    }

    [Fact]
    public async Task Should_ReturnPermanentAuthenticate_When_AuthTokenIsWrong()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        var channel = new TwilioChannel("sms", Channel(twilio).Options with { AuthToken = "wrong" }, Http.Client());

        var result = await channel.SendAsync("+14158675310", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.PermanentFailure, 401, "20003"), (result.Status, result.HttpStatusCode, result.ErrorCode));
        Assert.Contains("Authenticate", result.Error);
    }

    [Fact]
    public async Task Should_ReturnRetryableWithRetryAfter_When_Twilio429()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        twilio.RespondTooManyRequests(1, TimeSpan.FromSeconds(7));

        var result = await Channel(twilio).SendAsync("+14158675310", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.RetryableFailure, "20429"), (result.Status, result.ErrorCode));
        Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
    }

    [Fact]
    public async Task Should_ReturnRetryable_When_Twilio500()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        twilio.RespondServerError(1);

        var result = await Channel(twilio).SendAsync("+14158675310", new OutgoingMessage { Text = "hi" });

        Assert.Equal((SendStatus.RetryableFailure, 500), (result.Status, result.HttpStatusCode));
    }

    [Fact]
    public async Task Should_FailWithoutCalling_When_AttachmentHasNoUrl()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();

        var result = await Channel(twilio).SendAsync("+14158675310", new OutgoingMessage
        {
            Text = "pic",
            Attachments = [new MessageAttachment { Name = "a.png", Content = new byte[] { 1 } }],
        });

        Assert.Equal(SendStatus.PermanentFailure, result.Status);
        Assert.Empty(twilio.Requests);
    }

    private static TwilioChannel Channel(FakeTwilioServer twilio, Uri? statusCallback = null) => new("sms", new TwilioOptions
    {
        AccountSid = twilio.AccountSid,
        AuthToken = twilio.AuthToken,
        FromNumber = "+15017122661",
        ApiBaseUrl = twilio.BaseUrl,
        StatusCallbackUrl = statusCallback,
    }, Http.Client());

    private static async Task<SmsEndpoint> Endpoint(TwilioChannel channel)
    {
        var inbox = new List<IncomingMessage>();
        var receiver = await LoopbackReceiver.StartAsync(request =>
        {
            // The server wiring passes the public URL configured at Twilio; here that is the loopback URL itself.
            var result = channel.HandleIncomingMessage(request.Url, request.Body, request.Header(TwilioSignature.Header));
            if (result.Message is { } m)
            {
                inbox.Add(m);
            }

            return Task.FromResult(new FakeResponse(result.HttpStatusCode, result.ResponseBody ?? result.Error ?? "", result.ResponseContentType ?? "text/plain"));
        });
        return new SmsEndpoint(receiver, inbox);
    }

    private sealed record SmsEndpoint(LoopbackReceiver Receiver, List<IncomingMessage> Inbox) : IAsyncDisposable
    {
        public Uri Url(string path) => Receiver.Url(path);

        public ValueTask DisposeAsync() => Receiver.DisposeAsync();
    }
}
