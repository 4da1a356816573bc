using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;
using Platform.Messaging.Mqtt;
using Platform.Mqtt;
using Platform.Testing;

namespace Platform.Channels.Integration.Tests;

/// <summary>MQTT channels against the real mosquitto (<see cref="MosquittoFixture"/>: MQTT_PORT, else started by the fixture).</summary>
[Collection(ChannelServer.Collection)]
public sealed class MqttChannelTests
{
    private static int BrokerPort => MosquittoFixture.Port;

    private static string Port => BrokerPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A test client on mosquitto that records what arrives on <paramref name="filter"/>.</summary>
    private static async Task<(MqttConnection Client, ConcurrentQueue<MqttMessage> Received)> ClientAsync(string filter)
    {
        var client = new MqttConnection(new MqttOptions { Host = "127.0.0.1", Port = BrokerPort, Embedded = false, ClientIdPrefix = "test" });
        var received = new ConcurrentQueue<MqttMessage>();
        await client.SubscribeAsync(filter, (m, _) => { received.Enqueue(m); return Task.CompletedTask; });
        return (client, received);
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    private static async Task<ChannelServer> StartAsync(Dictionary<string, string?> channel, Dictionary<string, string?> platform, string reply)
    {
        var settings = new Dictionary<string, string?>(platform);
        foreach (var (k, v) in ChannelServer.Channel("iot", "Mqtt", channel)) settings[k] = v;
        var server = new ChannelServer(settings);
        await server.PublishEchoWorkflowAsync("iot", reply);
        var listeners = server.Services.GetRequiredService<MqttListenerService>();
        await WaitAsync(() => listeners.SubscribedChannels.Contains("iot"), "the channel's subscription");
        return server;
    }

    [Fact]
    public async Task Should_ReplyOnTheReplyTopic_When_TextArrivesOnAChannelTopic()
    {
        // Arrange: the platform's shared connection goes to mosquitto
        var g = Guid.NewGuid().ToString("N")[..10];
        await using var server = await StartAsync(
            new() { ["topics"] = $"test/{g}/in/+", ["replyTopic"] = $"test/{g}/out/{{wildcard}}" },
            new() { ["Platform:Mqtt:Host"] = "127.0.0.1", ["Platform:Mqtt:Port"] = Port },
            "Lights are **on**.");
        var (client, received) = await ClientAsync($"test/{g}/out/#");
        await using var _ = client;

        // Act
        await client.PublishAsync($"test/{g}/in/alice", "turn on the lights");
        await WaitAsync(() => !received.IsEmpty, "the reply");

        // Assert
        var reply = Assert.Single(received);
        Assert.Equal($"test/{g}/out/alice", reply.Topic);
        var json = JsonNode.Parse(reply.PayloadText)!;
        Assert.Equal("Lights are **on**.", json["text"]!.GetValue<string>());
        Assert.Equal($"test/{g}/in/alice", json["to"]!.GetValue<string>());
        Assert.Equal("out", json["direction"]!.GetValue<string>());
        var inbox = (await server.Services.GetRequiredService<IInboxStore>().ListAsync("iot", null, new PageArgs(0, 10))).Items;
        Assert.Equal($"mqtt:iot:{Uri.EscapeDataString($"test/{g}/in/alice")}", Assert.Single(inbox).ConversationKey);
    }

    [Fact]
    public async Task Should_AnswerOnce_When_TheSameJsonMessageIsDeliveredTwice()
    {
        // Arrange: the channel has a broker connection of its own; the platform has none
        var g = Guid.NewGuid().ToString("N")[..10];
        await using var server = await StartAsync(
            new() { ["topics"] = $"test/{g}/in", ["replyTopic"] = $"test/{g}/out/{{conversation}}", ["host"] = "127.0.0.1", ["port"] = Port },
            new(),
            "Noted.");
        var (client, received) = await ClientAsync($"test/{g}/out/#");
        await using var _ = client;
        var payload = new JsonObject { ["text"] = "water the plants", ["from"] = "bob", ["id"] = $"m-{g}" }.ToJsonString();

        // Act
        await client.PublishAsync($"test/{g}/in", payload);
        await client.PublishAsync($"test/{g}/in", payload);
        await WaitAsync(() => !received.IsEmpty, "the reply");
        await Task.Delay(1000); // a second answer would arrive within this time

        // Assert
        var reply = Assert.Single(received);
        Assert.Equal($"test/{g}/out/bob", reply.Topic);
        var stored = Assert.Single((await server.Services.GetRequiredService<IInboxStore>().ListAsync("iot", null, new PageArgs(0, 10))).Items);
        Assert.Equal($"mqtt:iot:m-{g}", stored.DeduplicationKey);
        Assert.Equal("mqtt:iot:bob", stored.ConversationKey);
    }

    [Theory]
    [InlineData("chat/in/+", "chat/out/{wildcard}", "chat/in/alice", "chat/out/alice")]
    [InlineData("home/#", "replies/{wildcard}", "home/kitchen/lamp", "replies/kitchen/lamp")]
    [InlineData("chat/in/+", "chat/out/{conversation}", "bob", "chat/out/bob")]
    [InlineData("chat/in/+", "chat/out/{wildcard}", "bob", "chat/out/bob")]
    public void Should_FillTheReplyTopic_When_AConversationIsAnswered(string topics, string replyTopic, string conversation, string expected)
    {
        // Arrange
        var settings = MqttChannelSettings.Read(new ChannelConfig
        {
            Name = "iot", Kind = ChannelKind.Mqtt, Settings = new JsonObject { ["topics"] = topics, ["replyTopic"] = replyTopic },
        });

        // Act
        var topic = settings.ReplyTopicFor(conversation);

        // Assert
        Assert.Equal(expected, topic);
    }

    [Theory]
    [InlineData("", "out", "needs 'topics'")]
    [InlineData("chat/#/in", "out", "not a valid topic filter")]
    [InlineData("chat/in", "out/+", "not a topic one can publish to")]
    public void Should_ExplainTheSetting_When_AnMqttChannelIsConfiguredWrongly(string topics, string replyTopic, string expected)
    {
        // Arrange
        var config = new ChannelConfig { Name = "iot", Kind = ChannelKind.Mqtt, Settings = new JsonObject { ["topics"] = topics, ["replyTopic"] = replyTopic } };

        // Act
        var e = Assert.Throws<ChannelConfigurationException>(() => MqttChannelSettings.Read(config));

        // Assert
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_SkipTheChannelsOwnReplies_When_TheyArriveOnASubscribedTopic()
    {
        // Arrange
        var own = new MqttMessage("chat/out/bob", System.Text.Encoding.UTF8.GetBytes("{\"text\":\"Noted.\",\"direction\":\"out\"}"), false);
        var plain = new MqttMessage("chat/in/bob", System.Text.Encoding.UTF8.GetBytes("{not json"), false);

        // Act
        var skipped = MqttMessageParser.Parse("iot", own, DateTimeOffset.UnixEpoch);
        var parsed = MqttMessageParser.Parse("iot", plain, DateTimeOffset.UnixEpoch);

        // Assert
        Assert.Null(skipped);
        Assert.Equal("{not json", parsed!.Text);
        Assert.Equal("chat/in/bob", parsed.Conversation.ChatId);
    }
}
