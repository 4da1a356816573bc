using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Server.Tests;

/// <summary>The seed assistant reached over WhatsApp (Cloud API webhooks, signed with the app secret) and Discord (Ed25519-signed
/// interactions), answering through the loopback fakes; forged, replayed and malformed deliveries refused.</summary>
public sealed partial class SeedWorkflowTests
{
    private const string OrdersAnswer = "5 orders came in today, 575.6 in total.";
    private static readonly Uri WhatsAppWebhook = new("/channels/whatsapp/whatsapp/webhook", UriKind.Relative);
    private static readonly Uri DiscordInteractions = new("/channels/discord/discord/interactions", UriKind.Relative);

    private static string NewWaId() => "49151" + Random.Shared.NextInt64(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string NewSnowflakeUser() => "8035111" + Random.Shared.NextInt64(1_000_000_000, 9_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<long> InboxCountAsync(string channel, string idPart)
    {
        var inbox = await demo.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}&take=500");
        return inbox["items"]!.AsArray().Count(i => i!["deduplicationKey"]!.GetValue<string>().Contains(idPart, StringComparison.Ordinal));
    }

    private async Task<List<T>> WaitForAsync<T>(Func<List<T>> read, int count, string what)
    {
        var items = read();
        for (var i = 0; i < 300 && items.Count < count; i++)
        {
            await Task.Delay(50, Ct);
            items = read();
        }
        Assert.True(items.Count >= count, $"No {what}. Outbox: {await demo.Admin.GetStringAsync("/api/messages/outbox?take=5", Ct)}\n{ServerErrorLog.Latest()}");
        return items;
    }

    [Fact]
    public async Task Should_AnswerOverWhatsAppAndRecordTheDelivery_When_ACustomerAsksThroughTheSignedWebhook()
    {
        var waId = NewWaId();
        var wamid = "wamid." + Guid.NewGuid().ToString("N");
        var client = demo.Factory.CreateClient();

        var response = await demo.WhatsApp.SendWebhookAsync(WhatsAppWebhook, demo.WhatsApp.TextMessage(waId, wamid, "how many orders came in today?"), through: client);
        var replies = await WaitForAsync(() => demo.WhatsApp.SentMessages.Where(m => m.To == waId).ToList(), 1, "WhatsApp reply");
        await WaitForAsync(() => demo.WhatsApp.ReadMessages.Where(id => id == wamid).ToList(), 1, "read receipt");
        var delivered = await demo.WhatsApp.SendWebhookAsync(WhatsAppWebhook, demo.WhatsApp.Status(replies[0].Id, "delivered", waId), through: client);
        var read = await demo.WhatsApp.SendWebhookAsync(WhatsAppWebhook, demo.WhatsApp.Status(replies[0].Id, "read", waId), through: client);
        var outbox = await demo.Admin.GetJsonAsync("/api/messages/outbox?channel=whatsapp&take=200");

        Assert.Equal(200, response.Status);
        Assert.Equal(("text", OrdersAnswer), (replies.Single().Type, replies.Single().Text));
        Assert.Equal((200, 200), (delivered.Status, read.Status));
        var row = outbox["items"]!.AsArray().Single(r => r!["providerMessageIds"]?.GetValue<string>() == replies[0].Id)!;
        Assert.Equal(("Sent", "read"), (row.Str("status"), row.Str("deliveryStatus")));
    }

    [Fact]
    public async Task Should_RefuseForgedAndReplayedWhatsAppDeliveriesWith401AndStoreNothing_When_TheSignatureIsWrongOrSeen()
    {
        var waId = NewWaId();
        var forgedId = "wamid." + Guid.NewGuid().ToString("N");
        var replayedId = "wamid." + Guid.NewGuid().ToString("N");
        var client = demo.Factory.CreateClient();

        var forged = await demo.WhatsApp.SendWebhookAsync(WhatsAppWebhook, demo.WhatsApp.TextMessage(waId, forgedId, "how many orders came in today?"),
            appSecret: "not-the-app-secret", through: client);
        var unsigned = await demo.WhatsApp.SendWebhookAsync(WhatsAppWebhook, demo.WhatsApp.TextMessage(waId, forgedId, "hi"), unsigned: true, through: client);
        var payload = demo.WhatsApp.TextMessage(waId, replayedId, "how many orders came in today?");
        var first = await demo.WhatsApp.SendWebhookAsync(WhatsAppWebhook, payload, through: client);
        await WaitForAsync(() => demo.WhatsApp.SentMessages.Where(m => m.To == waId).ToList(), 1, "WhatsApp reply");
        var replayed = await demo.WhatsApp.SendWebhookAsync(WhatsAppWebhook, payload, through: client);
        var malformed = await demo.WhatsApp.SendWebhookAsync(WhatsAppWebhook, new JsonObject(), tamperedBody: null, through: client, appSecret: null);
        using var badJson = new HttpRequestMessage(HttpMethod.Post, WhatsAppWebhook) { Content = new StringContent("{\"object\":", Encoding.UTF8, "application/json") };
        badJson.Headers.Add("X-Hub-Signature-256", FakeWhatsAppServer.Sign(demo.WhatsApp.AppSecret, "{\"object\":"));
        using var badJsonResponse = await client.SendAsync(badJson, Ct);

        Assert.Equal((401, 401), (forged.Status, unsigned.Status));
        Assert.Contains("X-Hub-Signature-256", forged.Body);
        Assert.Equal((200, 401), (first.Status, replayed.Status));
        Assert.Contains("replayed", replayed.Body);
        Assert.Equal(400, malformed.Status);
        Assert.Equal(HttpStatusCode.BadRequest, badJsonResponse.StatusCode);
        Assert.Contains("not valid JSON", await badJsonResponse.Content.ReadAsStringAsync(Ct));
        Assert.Equal(0, await InboxCountAsync("whatsapp", forgedId));
        Assert.Equal(1, await InboxCountAsync("whatsapp", replayedId));
        Assert.Single(demo.WhatsApp.SentMessages, m => m.To == waId);
    }

    [Fact]
    public async Task Should_AnswerTheChallenge_When_MetaVerifiesTheWebhookWithTheVerifyToken()
    {
        var client = demo.Factory.CreateClient();

        var ok = await demo.WhatsApp.VerifyAsync(WhatsAppWebhook, DemoServerFixture.WhatsAppVerifyToken, "1158201444", client);
        var wrong = await demo.WhatsApp.VerifyAsync(WhatsAppWebhook, "guessed-token", "1158201444", client);

        Assert.Equal((200, "1158201444"), (ok.Status, ok.Body));
        Assert.Equal(403, wrong.Status);
        Assert.Contains("verify_token", wrong.Body);
    }

    [Fact]
    public async Task Should_AnswerTheSlashCommandThroughTheInteractionWebhook_When_ADiscordUserAsks()
    {
        var channelId = fakeChannel();
        var interaction = demo.Discord.SlashCommand(channelId, NewSnowflakeUser(), "ask", "how many orders came in today?");

        var response = await demo.Discord.SendInteractionAsync(DiscordInteractions, interaction, demo.Factory.CreateClient());
        var replies = await WaitForAsync(() => demo.Discord.PostedMessages.Where(m => m.ChannelId == channelId).ToList(), 1, "Discord reply");

        Assert.Equal((200, "{\"type\":5}"), (response.Status, response.Body));
        var reply = Assert.Single(replies);
        Assert.Equal(("original", OrdersAnswer.Replace(".", ".", StringComparison.Ordinal)), (reply.Route, reply.Content!.Replace("\\", "", StringComparison.Ordinal)));
        Assert.Empty(reply.Payload["allowed_mentions"]!["parse"]!.AsArray());

        static string fakeChannel() => "11842133184742" + Random.Shared.Next(10000, 99999).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Should_RefuseForgedReplayedAndMalformedInteractions_When_DiscordSignaturesDoNotHold()
    {
        var client = demo.Factory.CreateClient();
        var channelId = "11842133184743" + Random.Shared.Next(10000, 99999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var impostor = await FakeDiscordServer.StartAsync();
        var forgedCommand = demo.Discord.SlashCommand(channelId, NewSnowflakeUser(), "ask", "how many orders came in today?");
        var forgedSignature = impostor.Sign(DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), forgedCommand.ToJsonString());
        var command = demo.Discord.SlashCommand(channelId, NewSnowflakeUser(), "ask", "how many orders came in today?");

        var ping = await demo.Discord.SendInteractionAsync(DiscordInteractions, demo.Discord.Ping(), client);
        var forged = await demo.Discord.SendInteractionAsync(DiscordInteractions, forgedCommand, client, forgedSignature: forgedSignature);
        var stale = await demo.Discord.SendInteractionAsync(DiscordInteractions, forgedCommand, client, timestamp: DateTimeOffset.UtcNow.AddHours(-1));
        var first = await demo.Discord.SendInteractionAsync(DiscordInteractions, command, client);
        var replayed = await demo.Discord.SendInteractionAsync(DiscordInteractions, command, client, replay: demo.Discord.LastSignature);
        var badJson = await demo.Discord.SendInteractionAsync(DiscordInteractions, new JsonObject { ["type"] = "x" }, client);
        await WaitForAsync(() => demo.Discord.PostedMessages.Where(m => m.ChannelId == channelId).ToList(), 1, "Discord reply");

        Assert.Equal((200, "{\"type\":1}"), (ping.Status, ping.Body));
        Assert.Equal((401, 401, 200, 401), (forged.Status, stale.Status, first.Status, replayed.Status));
        Assert.Equal(400, badJson.Status);
        Assert.Equal(0, await InboxCountAsync("discord", forgedCommand["id"]!.GetValue<string>()));
        Assert.Equal(1, await InboxCountAsync("discord", command["id"]!.GetValue<string>()));
        Assert.Single(demo.Discord.PostedMessages, m => m.ChannelId == channelId);
    }
}
