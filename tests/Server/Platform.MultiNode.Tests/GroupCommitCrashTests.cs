using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.MultiNode.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;

namespace Platform.MultiNode.Tests;

/// <summary>
/// Group commit under kill -9: a real server process takes a burst of messages from many conversations at once (its
/// workflow commits are then written many per transaction) and is killed while it works. After a restart on the same data
/// directory, and the channel's retries of what was never acknowledged, every message has exactly one reply row in the
/// outbox and every message is answered.
/// </summary>
public sealed class GroupCommitCrashTests : IAsyncLifetime
{
    private const string SecretToken = "group-commit-crash-secret";
    private const int Messages = 200;
    private static readonly Dictionary<string, string> Environment = new()
    {
        ["Platform__Secrets__Key"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
        ["Platform__RateLimits__Enabled"] = "false", // the test is the only client, and it sends as fast as it can
    };

    private readonly TempDirectory _temp = new("multinode-group-commit");
    private readonly List<ServerNode> _nodes = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        _temp.Dispose();
    }

    private static string Text(int i) => $"msg-{i:D4}";

    [Fact]
    public async Task Should_Reply_Exactly_Once_Per_Message_When_The_Server_Is_Killed_At_Full_Load()
    {
        // Arrange: MessageReceived → SendReply on a Telegram channel (persistence Full: instance, journal, outbox, inbox mark).
        await using var telegram = await FakeTelegramServer.StartAsync();
        var data = _temp.CreateSubdirectory("data");
        var first = await ServerNode.StartAsync("gc-first", data, environment: Environment);
        _nodes.Add(first);
        var channel = "tg-" + Guid.NewGuid().ToString("N")[..8];
        using (var created = await first.Admin.PostAsJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = channel, ["kind"] = "Telegram",
            ["settings"] = new JsonObject { ["botToken"] = telegram.BotToken, ["webhookSecretToken"] = SecretToken, ["apiBaseUrl"] = telegram.BaseUrl.ToString() },
        }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }
        await first.Admin.PublishAsync(Api.Sequence($"echo {channel}",
            Api.Activity("received", "Platform.MessageReceived", ("channel", Api.Literal("String", channel))),
            Api.Activity("reply", "Platform.SendReply", ("text", new JsonObject
            {
                ["typeName"] = "String",
                ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'Answer to: ' + getOutput('received', 'Text')" },
            }))));

        // Act: 16 senders deliver 200 messages (one conversation each); kill -9 once a third of them is acknowledged.
        var acknowledged = new ConcurrentDictionary<int, bool>();
        Task<FakeResponse> Deliver(ServerNode node, int i) => telegram.SendUpdateAsync(new Uri(node.BaseAddress, $"/channels/{channel}/telegram/webhook"),
            TelegramPayloads.TextMessage(70_000 + i, 30_000 + i, 800 + i, Text(i)), SecretToken);
        var next = -1;
        var senders = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Messages)
            {
                try
                {
                    if ((await Deliver(first, i)).Status == 200) acknowledged[i] = true;
                }
                catch (HttpRequestException) { } // the node is gone: like Telegram, retry later
                catch (TaskCanceledException) { }
            }
        })).ToList();
        var until = DateTime.UtcNow.AddSeconds(120);
        while (acknowledged.Count < Messages / 3 && DateTime.UtcNow < until) await Task.Delay(5);
        await first.KillAsync();
        await Task.WhenAll(senders);

        var second = await ServerNode.StartAsync("gc-second", data, environment: Environment);
        _nodes.Add(second);
        // Telegram retries what was not acknowledged; a few acknowledged ones come again too (they must be ignored).
        foreach (var i in Enumerable.Range(0, Messages).Where(i => !acknowledged.ContainsKey(i)).Concat(acknowledged.Keys.Take(10)))
            Assert.Equal(200, (await Deliver(second, i)).Status);

        // Assert: one reply row per message, each delivered.
        JsonArray rows = [];
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            var outbox = await second.Admin.GetJsonAsync($"/api/messages/outbox?channel={channel}&take=500");
            rows = outbox["items"]!.AsArray();
            if (rows.Count >= Messages && rows.All(r => r!["status"]!.GetValue<string>() == "Sent")) break;
            await Task.Delay(250);
        }
        var texts = rows.Select(r => r!["payload"]!.GetValue<string>()).ToList();
        var missing = Enumerable.Range(0, Messages).Where(i => !texts.Any(t => t.Contains("Answer to: " + Text(i), StringComparison.Ordinal))).ToList();
        Assert.True(missing.Count == 0, $"No reply row for {string.Join(", ", missing.Take(20))} (acknowledged before the kill: {acknowledged.Count}).\n{second.Output}");
        Assert.Equal(Messages, rows.Count); // exactly one per message
        var inbox = await second.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}&take=500");
        Assert.Equal(Messages, inbox["totalCount"]!.GetValue<long>());
        var sent = telegram.SentMessages.Select(m => m.PlainText).ToHashSet(StringComparer.Ordinal);
        Assert.All(Enumerable.Range(0, Messages), i => Assert.Contains("Answer to: " + Text(i), sent));
        Assert.False(second.HasExited, second.Output);
    }
}
