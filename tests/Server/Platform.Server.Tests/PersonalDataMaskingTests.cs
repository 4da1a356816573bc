using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using Platform.Messaging.Email;
using Platform.Server.Observability;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>
/// Phone numbers and e-mail addresses never appear in full in the logs (issue 16, item 6): an SMS through the Twilio fake and an
/// e-mail through Dovecot are answered by a workflow while every log line (message and structured properties, at Debug) is
/// captured; the stored conversations keep the full number and address.
/// </summary>
public sealed class PersonalDataMaskingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Phone = "+14155550123";

    [Fact]
    public async Task Should_Mask_Phone_Numbers_And_Email_Addresses_In_Logs_When_An_Sms_And_An_Email_Are_Answered()
    {
        // Arrange: a server with an e-mail channel on Dovecot, an SMS channel on the Twilio fake, an echo workflow on each, and
        // every log line captured.
        using var data = new TempDirectory("platform-masking");
        var assistant = Services.NewMailUser("assistant");
        var owner = Services.NewMailUser("owner");
        var settings = PlatformServerFactory.WithKeys(data.Path);
        foreach (var (key, value) in Services.MailChannel(assistant)) settings[$"Platform:Channels:mail:{key}"] = value;
        settings["Platform:Channels:mail:kind"] = "Email";
        var log = new CapturingLog();
        await using var root = new PlatformServerFactory(settings);
        await using var factory = root.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(log).AddFilter<CapturingLog>(_ => true)));
        using var admin = Client(factory, PlatformServerFactory.AdminKey);
        await using var twilio = await FakeTwilioServer.StartAsync();
        const string sms = "sms-mask";
        await admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = sms, ["kind"] = "Sms",
            ["settings"] = new JsonObject
            {
                ["accountSid"] = twilio.AccountSid, ["authToken"] = twilio.AuthToken, ["fromNumber"] = "+15005550006",
                ["apiBaseUrl"] = twilio.BaseUrl.ToString(), ["publicBaseUrl"] = "https://bot.example.com",
            },
        }, HttpStatusCode.Created);
        foreach (var channel in new[] { sms, "mail" })
            await admin.SaveAsync(Sequence(UniqueName("echo " + channel), null,
                Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
                Activity("reply", "Platform.SendReply", ("text", new JsonObject
                {
                    ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'You said: ' + getOutput('received', 'Text')" },
                }))), publish: true);
        var email = factory.Services.GetRequiredService<EmailListenerService>();
        await Services.WaitAsync(() => Task.FromResult(email.Listeners.TryGetValue("mail", out var listener) && listener.IsConnected), () => "the IMAP listener");

        // Act: an SMS from the phone, a mail from the owner; and a log line of our own that names both.
        var fields = new List<KeyValuePair<string, string>>
        {
            new("MessageSid", "SM" + Guid.NewGuid().ToString("N")), new("AccountSid", twilio.AccountSid), new("From", Phone),
            new("To", "+15005550006"), new("Body", "call me back"), new("NumMedia", "0"),
        };
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{sms}/twilio/messages") { Content = new FormUrlEncodedContent(fields) })
        {
            request.Headers.Add("X-Twilio-Signature", FakeTwilioServer.Sign(twilio.AuthToken, $"https://bot.example.com/channels/{sms}/twilio/messages", fields));
            using var inbound = await factory.CreateClient().SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, inbound.StatusCode);
        }
        await SendMailAsync(owner, assistant, "Masking", "please write back");
        await Services.WaitAsync(() => Task.FromResult(twilio.CreatedMessages.Count > 0), () => "the SMS reply at the Twilio fake");
        await Services.WaitAsync(async () => await InboxCountAsync(owner) > 0, () => $"a reply in {owner}'s INBOX");
        factory.Services.GetRequiredService<ILogger<PersonalDataMaskingTests>>()
            .LogWarning("Reply to {Sender} and {Mail} failed: {Reason}", Phone, Services.Address(owner), $"no answer from {Phone}, cc {Services.Address(owner)}");
        var smsThread = await ThreadAsync(admin, sms);
        var mailThread = await ThreadAsync(admin, "mail");

        // Assert: no log line or property has the full number or address (also not URL-escaped in a conversation key)...
        var lines = log.Lines.ToArray();
        var ownerAddress = Services.Address(owner);
        Assert.DoesNotContain(lines, l => l.Contains(Phone[1..], StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(ownerAddress, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(lines, l => l.Contains(owner + "@", StringComparison.OrdinalIgnoreCase));
        // ... they are masked (our own line, message and properties) ...
        var ours = Assert.Single(lines, l => l.StartsWith("Reply to ", StringComparison.Ordinal));
        Assert.Contains($"Reply to +14*****0123 and {owner[0]}***@test.local failed: no answer from +14*****0123, cc {owner[0]}***@test.local", ours, StringComparison.Ordinal);
        Assert.Contains("| Sender=+14*****0123", ours, StringComparison.Ordinal);
        Assert.Contains($"| Mail={owner[0]}***@test.local", ours, StringComparison.Ordinal);
        Assert.Contains("{Sender}", ours, StringComparison.Ordinal); // the template is kept
        // ... and the stored messages are intact.
        Assert.Contains(Phone[1..], smsThread, StringComparison.Ordinal);
        Assert.Contains("call me back", smsThread, StringComparison.Ordinal);
        Assert.Contains(ownerAddress, mailThread, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(Phone, twilio.CreatedMessages[0].To);
    }

    [Theory]
    [InlineData("from +441234561234 today", "from +44******1234 today")]
    [InlineData("call +1 (415) 555-0100", "call +14*****0100")]
    [InlineData("call (415) 555-0100 or 415-555-0199", "call 41****0100 or 41****0199")]
    [InlineData("sms:chan:%2B14155550100", "sms:chan:%2B14*****0100")]
    [InlineData("write to anna.berg+news@example.co.uk now", "write to a***@example.co.uk now")]
    [InlineData("took 1234 ms at 2026-12-08T01:20:52+00:00, order 10042, id 3f2a9c1d55", "took 1234 ms at 2026-12-08T01:20:52+00:00, order 10042, id 3f2a9c1d55")]
    public void Should_Mask_Only_Numbers_And_Addresses_When_A_Text_Is_Masked(string text, string masked) =>
        Assert.Equal(masked, PersonalDataMask.Mask(text));

    [Fact]
    public async Task Should_Log_In_Full_When_Masking_Is_Turned_Off()
    {
        // Arrange
        using var data = new TempDirectory("platform-masking-off");
        var settings = PlatformServerFactory.WithKeys(data.Path);
        settings[PersonalDataMask.SettingKey] = "false";
        var log = new CapturingLog();
        await using var root = new PlatformServerFactory(settings);
        await using var factory = root.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(log).AddFilter<CapturingLog>(_ => true)));
        _ = factory.Server; // starts the host

        // Act
        factory.Services.GetRequiredService<ILogger<PersonalDataMaskingTests>>().LogWarning("Debugging {Sender}", Phone);

        // Assert
        Assert.Contains(log.Lines, l => l.StartsWith($"Debugging {Phone}", StringComparison.Ordinal));
    }

    private static HttpClient Client(WebApplicationFactory<Program> factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", key);
        return client;
    }

    private static async Task<string> ThreadAsync(HttpClient admin, string channel)
    {
        var list = await admin.GetJsonAsync($"/api/conversations?channel={channel}");
        var key = Assert.Single(list["items"]!.AsArray())!.Str("key");
        return (await admin.GetJsonAsync($"/api/conversations/{Uri.EscapeDataString(key)}")).ToJsonString(new System.Text.Json.JsonSerializerOptions
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + key;
    }

    private static async Task SendMailAsync(string from, string to, string subject, string text)
    {
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress("Owner", Services.Address(from)));
        mail.To.Add(MailboxAddress.Parse(Services.Address(to)));
        mail.Subject = subject;
        mail.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("owner.test");
        mail.Body = new TextPart("plain") { Text = text };
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync("127.0.0.1", Services.Port("SMTP_PORT"), SecureSocketOptions.None, Ct);
        await smtp.SendAsync(mail, Ct);
        await smtp.DisconnectAsync(true, Ct);
    }

    private static async Task<int> InboxCountAsync(string user)
    {
        using var imap = new ImapClient();
        await imap.ConnectAsync("127.0.0.1", Services.Port("IMAP_PORT"), SecureSocketOptions.None, Ct);
        await imap.AuthenticateAsync(user, Services.MailPassword, Ct);
        await imap.Inbox.OpenAsync(MailKit.FolderAccess.ReadOnly, Ct);
        var count = imap.Inbox.Count;
        await imap.DisconnectAsync(true, Ct);
        return count;
    }

    /// <summary>Every log line: the message, then each structured property as <c>| Name=value</c>.</summary>
    private sealed class CapturingLog : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose() { }

        private sealed class Logger(CapturingLog owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var line = formatter(state, exception);
                if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
                    line += string.Concat(pairs.Select(p => $" | {p.Key}={p.Value}"));
                owner.Lines.Enqueue(line);
            }
        }
    }
}
