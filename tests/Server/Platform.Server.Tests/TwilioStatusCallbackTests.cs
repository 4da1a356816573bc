using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>
/// SMS replies go out with a <c>StatusCallback</c> at the server's public address; the fake Twilio reports their delivery there,
/// signed, and <c>/channels/{name}/twilio/status</c> records it on the outbox row.
/// </summary>
public abstract class TwilioStatusCallbackTests(ServerFixture server)
{
    private const string PublicBase = "https://bot.example.com";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An SMS channel at <see cref="PublicBase"/> whose echo workflow has answered one SMS; returns the reply as Twilio got it
    /// and its outbox row id.</summary>
    private async Task<(string Channel, TwilioCreatedMessage Sms, string OutboxId)> ReplyToAnSmsAsync(FakeTwilioServer twilio)
    {
        var channel = "sms-" + Guid.NewGuid().ToString("N")[..8];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = channel, ["kind"] = "Sms",
            ["settings"] = new JsonObject
            {
                ["accountSid"] = twilio.AccountSid, ["authToken"] = twilio.AuthToken, ["fromNumber"] = "+15005550006",
                ["apiBaseUrl"] = twilio.BaseUrl.ToString(), ["publicBaseUrl"] = PublicBase,
            },
        }, HttpStatusCode.Created);
        await server.Admin.SaveAsync(Sequence(UniqueName("sms echo"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("reply", "Platform.SendReply", ("text", new JsonObject
            {
                ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'You said: ' + getOutput('received', 'Text')" },
            }))), publish: true);

        // Twilio posts the SMS to the public URL and signs that URL.
        var fields = new List<KeyValuePair<string, string>>
        {
            new("MessageSid", "SM" + Guid.NewGuid().ToString("N")), new("AccountSid", twilio.AccountSid), new("From", "+14155550100"),
            new("To", "+15005550006"), new("Body", "status please"), new("NumMedia", "0"),
        };
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/twilio/messages") { Content = new FormUrlEncodedContent(fields) })
        {
            request.Headers.Add("X-Twilio-Signature", FakeTwilioServer.Sign(twilio.AuthToken, $"{PublicBase}/channels/{channel}/twilio/messages", fields));
            using var inbound = await Anonymous().SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, inbound.StatusCode);
        }

        var until = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < until)
        {
            var rows = (await server.Admin.GetJsonAsync($"/api/messages/outbox?channel={channel}"))["items"]!.AsArray();
            if (twilio.CreatedMessages.Count == 1 && rows.Count == 1 && rows[0]!.Str("status") == "Sent")
                return (channel, twilio.CreatedMessages[0], rows[0]!.Str("id"));
            await Task.Delay(100, Ct);
        }
        Assert.Fail($"The reply on {channel} was not sent within 30 s: {twilio.CreatedMessages.Count} message(s) at Twilio.");
        throw new InvalidOperationException();
    }

    private HttpClient Anonymous() => server.Factory.CreateClient(apiKey: null);

    private async Task<JsonObject> OutboxRowAsync(string id) => await server.Admin.GetJsonAsync($"/api/messages/outbox/{id}");

    private sealed class CapturedLog : ILoggerProvider
    {
        public ConcurrentQueue<string> Warnings { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);
        public void Dispose() { }

        private sealed class Logger(string category, CapturedLog owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && category.EndsWith("ChannelInboundApi", StringComparison.Ordinal);
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) owner.Warnings.Enqueue(formatter(state, exception));
            }
        }
    }

    [Fact]
    public async Task Should_SendTheStatusCallbackAndRecordDelivered_When_TwilioReportsTheReplyDelivered()
    {
        // Arrange
        await using var twilio = await FakeTwilioServer.StartAsync();
        var (channel, sms, outboxId) = await ReplyToAnSmsAsync(twilio);

        // Act: Twilio reports sent, then delivered, then (late, out of order) sent again.
        var sent = await twilio.SendStatusCallbackAsync(sms, "sent", through: Anonymous());
        var delivered = await twilio.SendStatusCallbackAsync(sms, "delivered", through: Anonymous());
        var late = await twilio.SendStatusCallbackAsync(sms, "sent", through: Anonymous());
        var row = await OutboxRowAsync(outboxId);

        // Assert: the callback named our public URL and the outbox row; the row keeps the SID and the furthest status.
        Assert.Equal($"{PublicBase}/channels/{channel}/twilio/status?outbox={outboxId}", sms.StatusCallback);
        Assert.Equal((200, 200, 200), (sent.Status, delivered.Status, late.Status));
        Assert.Equal(sms.Sid, row.Str("providerMessageIds"));
        Assert.Equal(("Sent", "delivered"), (row.Str("status"), row.Str("deliveryStatus")));
        Assert.Null(row["deliveryErrorCode"]);
        Assert.Null(row["lastError"]);
        Assert.NotNull(row["deliveryUpdatedAt"]);
    }

    [Fact]
    public async Task Should_ShowTheFailureWithItsReasonInTheOutbox_When_TwilioReportsTheReplyUndelivered()
    {
        // Arrange
        await using var twilio = await FakeTwilioServer.StartAsync();
        var (channel, sms, outboxId) = await ReplyToAnSmsAsync(twilio);

        // Act
        var undelivered = await twilio.SendStatusCallbackAsync(sms, "undelivered", "30003", through: Anonymous());
        var list = await server.Operator.GetJsonAsync($"/api/messages/outbox?channel={channel}");
        // The conversation key escapes its parts (sms:<channel>:%2B14155550100); the URL escapes the key once more.
        var thread = await server.Operator.GetJsonAsync($"/api/conversations/{Uri.EscapeDataString($"sms:{channel}:{Uri.EscapeDataString("+14155550100")}")}");

        // Assert
        Assert.Equal(200, undelivered.Status);
        var row = Assert.Single(list["items"]!.AsArray())!;
        Assert.Equal(outboxId, row.Str("id"));
        Assert.Equal(("undelivered", "30003"), (row.Str("deliveryStatus"), row.Str("deliveryErrorCode")));
        Assert.Contains("30003", row.Str("lastError"));
        Assert.Contains("unreachable destination handset", row.Str("lastError"));
        var reply = thread["messages"]!.AsArray().Single(m => m.Str("direction") == "out")!;
        Assert.Equal(("undelivered", "30003"), (reply.Str("deliveryStatus"), reply.Str("deliveryErrorCode")));
        Assert.Contains("30003", reply.Str("error"));
    }

    [Fact]
    public async Task Should_RefuseWith401AndChangeNothing_When_TheStatusCallbackSignatureIsWrong()
    {
        // Arrange
        await using var twilio = await FakeTwilioServer.StartAsync();
        var (channel, sms, outboxId) = await ReplyToAnSmsAsync(twilio);

        // Act: signed with another token; signed for another outbox row than the URL names; no signature at all.
        var wrongToken = await twilio.SendStatusCallbackAsync(sms, "failed", "30007", through: Anonymous(), authToken: "not-the-auth-token-0123456789abcd");
        var otherRow = sms with { StatusCallback = $"{PublicBase}/channels/{channel}/twilio/status?outbox=someone-else" };
        using var swapped = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/twilio/status?outbox={outboxId}")
        {
            Content = new FormUrlEncodedContent([new("MessageSid", sms.Sid), new("MessageStatus", "failed"), new("ErrorCode", "30007")]),
        };
        swapped.Headers.Add("X-Twilio-Signature", FakeTwilioServer.Sign(twilio.AuthToken, otherRow.StatusCallback!,
            [new("MessageSid", sms.Sid), new("MessageStatus", "failed"), new("ErrorCode", "30007")]));
        using var swappedResponse = await Anonymous().SendAsync(swapped, Ct);
        using var unsigned = await Anonymous().PostAsync($"/channels/{channel}/twilio/status?outbox={outboxId}",
            new FormUrlEncodedContent([new("MessageSid", sms.Sid), new("MessageStatus", "failed")]), Ct);
        using var unknownChannel = await Anonymous().PostAsync($"/channels/no-such-sms/twilio/status",
            new FormUrlEncodedContent([new("MessageSid", sms.Sid), new("MessageStatus", "failed")]), Ct);
        var row = await OutboxRowAsync(outboxId);

        // Assert
        Assert.Equal(401, wrongToken.Status);
        Assert.Contains("X-Twilio-Signature", wrongToken.Body);
        await swappedResponse.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("X-Twilio-Signature", (await unsigned.AssertProblemAsync(HttpStatusCode.Unauthorized)).Str("detail"));
        await unknownChannel.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("Sent", row.Str("status"));
        Assert.Null(row["deliveryStatus"]);
        Assert.Null(row["lastError"]);
    }

    [Fact]
    public async Task Should_Answer200AndLogIt_When_TheStatusIsForAMessageSidTheOutboxDoesNotKnow()
    {
        // Arrange
        await using var twilio = await FakeTwilioServer.StartAsync();
        var (channel, sms, outboxId) = await ReplyToAnSmsAsync(twilio);
        var log = new CapturedLog();
        server.Factory.Services.GetRequiredService<ILoggerFactory>().AddProvider(log);
        var stranger = sms with { Sid = "SM00000000000000000000000000000000", StatusCallback = $"{PublicBase}/channels/{channel}/twilio/status" };

        // Act: a status for a message the platform never sent (no outbox row named, an unknown SID).
        var response = await twilio.SendStatusCallbackAsync(stranger, "delivered", through: Anonymous());
        var row = await OutboxRowAsync(outboxId);

        // Assert
        Assert.Equal(200, response.Status);
        Assert.Null(row["deliveryStatus"]);
        Assert.Contains(log.Warnings, w => w.Contains("SM00000000000000000000000000000000", StringComparison.Ordinal) && w.Contains("no such message", StringComparison.Ordinal));
    }
}

public sealed class SqliteTwilioStatusCallbackTests(SqliteServerFixture server) : TwilioStatusCallbackTests(server), IClassFixture<SqliteServerFixture>;

public sealed class PostgresTwilioStatusCallbackTests(PostgresServerFixture server) : TwilioStatusCallbackTests(server), IClassFixture<PostgresServerFixture>;
