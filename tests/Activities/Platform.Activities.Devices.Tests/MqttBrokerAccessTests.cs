using System.Collections.Concurrent;
using MQTTnet;
using MQTTnet.Protocol;
using Platform.Mqtt;
using Platform.Testing;
using static Platform.Activities.Devices.Tests.DevicesHost;

namespace Platform.Activities.Devices.Tests;

/// <summary>The embedded broker's credentials and topic ACL, checked with real MQTTnet clients (issue 16, H2).</summary>
public sealed class MqttBrokerAccessTests
{
    private const string LockPassword = "front-door-lock-secret-123";

    private static async Task<IMqttClient> ConnectAsync(int port, string? user, string? password, MqttClientConnectResultCode expected)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("acl-" + Guid.NewGuid().ToString("N")[..8])
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(5));
        if (user is not null) builder = builder.WithCredentials(user, password);
        MqttClientConnectResultCode code;
        try
        {
            code = (await client.ConnectAsync(builder.Build(), TestContext.Current.CancellationToken)).ResultCode;
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException e)
        {
            // MqttConnectingFailedException carries the broker's answer (its shape differs between MQTTnet versions).
            code = e.GetType().GetProperty("ResultCode")?.GetValue(e) as MqttClientConnectResultCode?
                ?? (e.GetType().GetProperty("Result")?.GetValue(e) as MqttClientConnectResult)?.ResultCode
                ?? MqttClientConnectResultCode.UnspecifiedError;
        }
        Assert.Equal(expected, code);
        return client;
    }

    [Fact]
    public async Task Should_Refuse_Anonymous_Clients_And_Keep_Devices_Off_Command_Topics_When_The_Embedded_Broker_Runs()
    {
        // Arrange: a broker with generated platform credentials and one device credential; the platform listens to the lock's topics.
        using var dir = new TempDirectory("mqtt-acl");
        var options = new MqttOptions
        {
            EmbeddedPort = FreePort(), ClientIdPrefix = "acl-tests", CredentialsDirectory = dir.Path,
            Clients = [new MqttClientAccount { Username = "front-door-lock", Password = LockPassword, Device = "front-door-lock" }],
        };
        await using var broker = new EmbeddedMqttBroker(options);
        await broker.StartAsync(TestContext.Current.CancellationToken);
        await using var platform = new MqttConnection(options);
        var received = new ConcurrentQueue<string>();
        var state = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await platform.SubscribeAsync("devices/front-door-lock/#", (m, _) =>
        {
            received.Enqueue($"{m.Topic}={m.PayloadText}");
            if (m.Topic.EndsWith("/state", StringComparison.Ordinal)) state.TrySetResult();
            return Task.CompletedTask;
        }, MqttQos.AtLeastOnce, TestContext.Current.CancellationToken);

        // Act + Assert: no credentials, wrong password.
        using (await ConnectAsync(broker.Port, null, null, MqttClientConnectResultCode.NotAuthorized)) { }
        using (await ConnectAsync(broker.Port, "front-door-lock", "wrong-password-123", MqttClientConnectResultCode.BadUserNameOrPassword)) { }

        // The device connects, but may not send itself (or any device) a command; it may publish its state.
        using var device = await ConnectAsync(broker.Port, "front-door-lock", LockPassword, MqttClientConnectResultCode.Success);
        var unlock = await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/front-door-lock/set")
            .WithPayload("{\"command\":\"unlock\"}").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), TestContext.Current.CancellationToken);
        var other = await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/kitchen-light/state")
            .WithPayload("{\"on\":true}").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), TestContext.Current.CancellationToken);
        var own = await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/front-door-lock/state")
            .WithPayload("{\"locked\":true}").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), TestContext.Current.CancellationToken);
        await state.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var subscribeOther = await device.SubscribeAsync("devices/+/set", MqttQualityOfServiceLevel.AtLeastOnce, TestContext.Current.CancellationToken);

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, unlock.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, other.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, own.ReasonCode);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, Assert.Single(subscribeOther.Items).ResultCode);
        Assert.Equal(["devices/front-door-lock/state={\"locked\":true}"], received.ToArray());

        // The platform's generated password is in the data directory, readable by the owner only.
        var file = Path.Combine(dir.Path, MqttOptions.PasswordFileName);
        Assert.Equal(options.Password, File.ReadAllText(file));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }
}
