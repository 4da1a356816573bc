using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Platform.Channels.Webhooks;
using Platform.Engine.Contracts;
using Platform.Testing.Fakes;

namespace Platform.Channels.Integration.Tests;

/// <summary>
/// Issue 20 against the real mail stack: a mail's file is streamed into the attachment store when the mail is taken in (bytes
/// equal), a file over the channel's limit is answered by mail; and a hand-off notifies agents once, by a signed webhook and by
/// an e-mail through an e-mail channel, while the web chat marks the agent's reply with the agent's name.
/// </summary>
[Collection(ChannelServer.Collection)]
public sealed class MailAttachmentAndHandoffTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string AdminKey = "channels-test-admin-key-0123456789";

    private static JsonObject Expression(string type, string value, string typeName = "String") => new()
    {
        ["typeName"] = typeName, ["expression"] = new JsonObject { ["type"] = type, ["value"] = value },
    };

    private static JsonObject Node(string id, string type, params (string Name, JsonObject Value)[] inputs)
    {
        var node = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1, ["name"] = id };
        foreach (var (name, value) in inputs) node[name] = value;
        return node;
    }

    /// <summary>Publishes the activities in a row, each connected to the next on its first port.</summary>
    private static async Task PublishAsync(ChannelServer server, params (JsonObject Node, string Port)[] steps)
    {
        var connections = new JsonArray();
        for (var i = 0; i + 1 < steps.Length; i++)
            connections.Add(new JsonObject
            {
                ["source"] = new JsonObject { ["activity"] = steps[i].Node.Str("id"), ["port"] = steps[i].Port },
                ["target"] = new JsonObject { ["activity"] = steps[i + 1].Node.Str("id"), ["port"] = "In" },
                ["vertices"] = new JsonArray(),
            });
        var model = new JsonObject
        {
            ["name"] = $"flow {Guid.NewGuid():N}",
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray([.. steps.Select(s => (JsonNode?)s.Node)]), ["connections"] = connections,
            },
        };
        await server.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(model, publish: true);
    }

    private static async Task<ChannelServer> MailServerWithEchoAsync(string bot, long maxAttachmentBytes)
    {
        var settings = MailServer.ChannelSettings(bot);
        settings["maxAttachmentBytes"] = maxAttachmentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var server = new ChannelServer(new Dictionary<string, string?>(ChannelServer.Channel("mail", "Email", settings)));
        await PublishAsync(server,
            (Node("received", "Platform.MessageReceived", ("channel", Expression("Literal", "mail"))), "Done"),
            (Node("reply", "Platform.SendReply", ("text", Expression("JavaScript",
                "var a = (getInput('message').attachments || [])[0]; a ? 'stored ' + a.id + ' ' + a.size + ' ' + a.name : 'no file'"))), "Done"));
        return server;
    }

    private static Action<MimeMessage> WithFile(string name, byte[] content, string type) => mail =>
    {
        var body = new BodyBuilder { TextBody = "Please have a look." };
        body.Attachments.Add(name, content, ContentType.Parse(type));
        mail.Body = body.ToMessageBody();
    };

    [Fact]
    public async Task Should_StoreTheMailsFileWithEqualBytes_When_AMailWithAnAttachmentArrives()
    {
        var bot = MailServer.NewUser("bot");
        var user = MailServer.NewUser("user");
        await using var server = await MailServerWithEchoAsync(bot, 50L * 1024 * 1024);
        var content = new byte[20_000];
        Random.Shared.NextBytes(content);

        await MailServer.SendAsync(user, bot, "Invoice", "see attached", WithFile("invoice.pdf", content, "application/pdf"));
        var reply = Assert.Single(await MailServer.WaitForInboxAsync(user, 1));
        var echo = (reply.TextBody ?? "").Trim().Split(' ', 4);

        Assert.True(echo is ["stored", _, "20000", "invoice.pdf"], $"The workflow saw no stored file: '{reply.TextBody}'.");
        var store = server.Services.GetRequiredService<IAttachmentStore>();
        var stored = await store.FindAsync(echo[1], Ct);
        Assert.Equal(("invoice.pdf", "application/pdf", "mail"), (stored!.Name, stored.ContentType, stored.Channel));
        await using var read = (await store.OpenReadAsync(echo[1], Ct))!;
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy, Ct);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task Should_AnswerByMailThatTheFileIsTooLarge_When_AMailsAttachmentIsOverTheChannelLimit()
    {
        var bot = MailServer.NewUser("bot");
        var user = MailServer.NewUser("user");
        await using var server = await MailServerWithEchoAsync(bot, 4096);

        await MailServer.SendAsync(user, bot, "Backup", "the backup", WithFile("backup.zip", new byte[10_000], "application/zip"));
        var reply = Assert.Single(await MailServer.WaitForInboxAsync(user, 1));

        Assert.Equal("Re: Backup", reply.Subject);
        Assert.Contains("That file is too large (9.8 KB); the limit is 4 KB.", reply.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("stored", reply.TextBody, StringComparison.Ordinal); // no workflow ran
    }

    private static async Task<JsonObject> NextFrameAsync(WebSocket socket, string type, Func<JsonObject, bool>? accept = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            var frame = JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, length))!.AsObject();
            if (frame["type"]?.GetValue<string>() == type && (accept is null || accept(frame))) return frame;
        }
    }

    private static Task SendAsync(WebSocket socket, string id, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "message", ["id"] = id, ["text"] = text }.ToJsonString()),
            WebSocketMessageType.Text, true, Ct);

    [Fact]
    public async Task Should_NotifyAgentsOnceBySignedWebhookAndMail_When_AConversationStartsWaitingForAPerson()
    {
        // Arrange: a web chat whose workflow hands off; notifications to a webhook and, by mail, to an agent's mailbox.
        await using var hook = await LoopbackReceiver.StartAsync();
        const string secret = "handoff-hook-secret-0123456789";
        var agentMailbox = MailServer.NewUser("agent");
        var sender = MailServer.ChannelSettings(MailServer.NewUser("notify"));
        sender.Remove("imapHost");
        sender.Remove("imapPort");
        var settings = new Dictionary<string, string?>(ChannelServer.Channel("help", "WebChat", new Dictionary<string, string?> { ["fallbackText"] = "-" })
            .Concat(ChannelServer.Channel("agents-mail", "Email", sender)))
        {
            ["Platform:Handoffs:Notify:WebhookUrl"] = hook.Url("/hooks/handoff").ToString(),
            ["Platform:Handoffs:Notify:WebhookSecret"] = secret,
            ["Platform:Handoffs:Notify:EmailChannel"] = "agents-mail",
            ["Platform:Handoffs:Notify:EmailTo"] = MailServer.Address(agentMailbox),
            ["Platform:Handoffs:Notify:StudioUrl"] = "https://bot.example.com",
        };
        await using var server = new ChannelServer(settings);
        await PublishAsync(server,
            (Node("received", "Platform.MessageReceived", ("channel", Expression("Literal", "help"))), "Done"),
            (Node("ask", "Platform.SendReply", ("text", Expression("Literal", "Let me get a person."))), "Done"),
            (Node("handoff", "Platform.HandOffToHuman", ("reason", Expression("Literal", "Customer asks for a refund")), ("queue", Expression("Literal", "support"))), "Returned"));
        using var socket = await server.Server.CreateWebSocketClient().ConnectAsync(new Uri("ws://localhost/ws/chat?channel=help"), Ct);
        var welcome = await NextFrameAsync(socket, "welcome");
        var key = welcome.Str("conversation");

        // Act: the visitor asks, is handed off, and writes again while waiting.
        await SendAsync(socket, "m1", "I want my money back");
        Assert.Equal("Let me get a person.", (await NextFrameAsync(socket, "message")).Str("text"));
        for (var until = DateTime.UtcNow.AddSeconds(30); hook.Requests.Count == 0 && DateTime.UtcNow < until;) await Task.Delay(50, Ct);
        var mail = Assert.Single(await MailServer.WaitForInboxAsync(agentMailbox, 1));
        await SendAsync(socket, "m2", "hello? anyone?");
        await Task.Delay(1500, Ct); // a second notification would come within this time

        // An agent replies from the Conversations page (here: the API with the Admin key).
        using var api = server.CreateClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", AdminKey);
        using var replied = await api.PostAsync($"/api/handoffs/{Uri.EscapeDataString(key)}/reply",
            new StringContent("{\"text\":\"Hi, I am a person from support.\"}", Encoding.UTF8, "application/json"), Ct);
        var agentReply = JsonNode.Parse(await replied.Content.ReadAsStringAsync(Ct))!;
        var frame = await NextFrameAsync(socket, "message", f => f["agent"] is not null);

        // Assert: one signed webhook with the hand-off, one mail, nothing more for the second message.
        var request = Assert.Single(hook.Requests);
        var header = request.Header(WebhookSignature.Header)!;
        var t = long.Parse(header.Split(',')[0][2..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("v1=" + WebhookSignature.ComputeV1(secret, t, request.Body), header, StringComparison.Ordinal);
        Assert.True(Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - t) < 300);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal(("handoff.waiting", key, "help", "Customer asks for a refund", "support"),
            (body.Str("type"), body.Str("conversationKey"), body.Str("channel"), body.Str("reason"), body.Str("queue")));
        Assert.Equal(body.Str("id"), request.Header(WebhookSignature.DeliveryIdHeader));
        Assert.Equal($"https://bot.example.com/conversations?key={Uri.EscapeDataString(key)}", body.Str("link"));
        Assert.Equal("Waiting for a person: Customer asks for a refund", mail.Subject);
        Assert.Contains(key, mail.TextBody, StringComparison.Ordinal);
        Assert.Single(await MailServer.ReadInboxAsync(agentMailbox));
        Assert.True(replied.IsSuccessStatusCode, await replied.Content.ReadAsStringAsync(Ct));
        Assert.Equal(("Hi, I am a person from support.", agentReply.Str("agent")), (frame.Str("text"), frame.Str("agent")));
    }
}

internal static class JsonTestExtensions
{
    public static string Str(this JsonNode? node, string key) => node![key]!.GetValue<string>();
}
