using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Npgsql;
using Platform.Activities.Data;
using Platform.Activities.Devices;
using Platform.Messaging.Email;
using Platform.Messaging.Mqtt;
using Platform.Mqtt;
using Platform.Server.Demo;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>
/// The demo on the real services instead of the embedded defaults: the data source <c>demo</c> points at the demo shop in a
/// PostgreSQL database of its own (PG_CONN), the devices and their simulator talk over mosquitto (MQTT_PORT), and the assistant is
/// reached by e-mail through Dovecot and aiosmtpd (SMTP_PORT, IMAP_PORT), over an MQTT channel and over the web chat socket.
/// Every topic starts with a prefix of its own, so servers that share mosquitto never see each other's devices.
/// </summary>
public sealed class ServicesDemoFixture : IAsyncLifetime
{
    /// <summary>A light the simulator is told to leave unanswered (Platform:Devices:SimulateOffline).</summary>
    public const string OfflineDevice = "hall-light";

    /// <summary>The web chat channel the bound-parameter workflow listens on.</summary>
    public const string LookupChannel = "lookup";

    private static readonly string[] ServedDevices = ["kitchen-light", "bedroom-light", "living-room-dimmer", "thermostat", "front-door-lock", "temperature-sensor"];
    private readonly TempDirectory _data = new("platform-demo-services");
    private readonly PostgresFixture _postgres = new();

    public PlatformServerFactory Factory { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>The test's own client on mosquitto.</summary>
    public MqttConnection Broker { get; private set; } = null!;

    /// <summary>The demo shop database on PostgreSQL.</summary>
    public string ShopConnectionString { get; private set; } = "";

    /// <summary>The assistant's mailbox (the Email channel's user).</summary>
    public string AssistantMailbox { get; } = Services.NewMailUser("assistant");

    /// <summary>The start of every topic this server uses.</summary>
    public string Prefix { get; } = "test/demo-" + Guid.NewGuid().ToString("N")[..12];

    public string CommandTopic(string device) => $"{Prefix}/devices/{device}/set";
    public string StateTopic(string device) => $"{Prefix}/devices/{device}/state";
    public string ChatIn(string user) => $"{Prefix}/chat/in/{user}";
    public string ChatOut(string user) => $"{Prefix}/chat/out/{user}";

    public async ValueTask InitializeAsync()
    {
        var mqttPort = Services.Port("MQTT_PORT");
        var now = DateTimeOffset.UtcNow;

        // The demo shop in PostgreSQL. Timezone=UTC: the seed workflow's date('now') is the server's "today", like the seeded rows.
        ShopConnectionString = new NpgsqlConnectionStringBuilder(await _postgres.CreateDatabaseAsync("demo_shop")) { Timezone = "UTC" }.ConnectionString;
        await using (var connection = new NpgsqlConnection(ShopConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(DemoShop.Sql(now, DataSourceProviderKind.PostgreSql), connection);
            await command.ExecuteNonQueryAsync();
        }

        // The demo devices (plus a hall light nobody answers for) on topics of this fixture's own.
        var devices = new JsonFileDeviceStore(Path.Combine(_data.Path, "devices.json"));
        var hallLight = new Device { Id = OfflineDevice, Name = "Hall light", Room = "hall", Type = DeviceTypes.Light, CreatedAt = now, UpdatedAt = now };
        foreach (var device in DemoDevices.Create(now).Append(hallLight))
            await devices.SaveAsync(device with { Transport = new DeviceTransport { CommandTopic = CommandTopic(device.Id), StateTopic = StateTopic(device.Id) } });

        // The test's client sees the simulator's retained states as they are published.
        Broker = new MqttConnection(new MqttOptions { Host = "127.0.0.1", Port = mqttPort, Embedded = false, ClientIdPrefix = "demo-test" });
        var states = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await using var watch = await Broker.SubscribeAsync($"{Prefix}/devices/+/state", (m, _) =>
        {
            states[m.Topic] = m.PayloadText;
            return Task.CompletedTask;
        });

        var settings = PlatformServerFactory.WithKeys(_data.Path);
        settings["Platform:Demo:Enabled"] = "true";
        settings["Platform:AI:Embeddings:Enabled"] = "false"; // n-grams only: fast and deterministic for these sentences
        settings["Platform:Mqtt:Host"] = "127.0.0.1";
        settings["Platform:Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture);
        settings["Platform:Devices:Simulate"] = "true";
        settings["Platform:Devices:SimulateOffline"] = OfflineDevice;
        foreach (var (key, value) in Services.MailChannel(AssistantMailbox)) settings[$"Platform:Channels:mail:{key}"] = value;
        settings["Platform:Channels:mail:kind"] = "Email";
        settings["Platform:Channels:iot:kind"] = "Mqtt";
        settings["Platform:Channels:iot:topics"] = $"{Prefix}/chat/in/+";
        settings["Platform:Channels:iot:replyTopic"] = $"{Prefix}/chat/out/{{wildcard}}";
        settings[$"Platform:Channels:{LookupChannel}:kind"] = "WebChat";
        Factory = new PlatformServerFactory(settings);
        Admin = Factory.CreateClient(PlatformServerFactory.AdminKey);

        // Point the demo data source (created in SQLite by the demo seeder on first start) at PostgreSQL, as an operator would.
        using (var put = await Admin.PutAsync("/api/data-sources/demo", new StringContent(
                   new JsonObject { ["provider"] = "PostgreSql", ["connectionString"] = ShopConnectionString }.ToJsonString(), Encoding.UTF8, "application/json")))
            await put.ReadJsonAsync(HttpStatusCode.OK);

        var email = Factory.Services.GetRequiredService<EmailListenerService>();
        var mqtt = Factory.Services.GetRequiredService<MqttListenerService>();
        await Services.WaitAsync(() => Task.FromResult(ServedDevices.All(d => states.ContainsKey(StateTopic(d)))),
            () => $"the simulator's initial states on mosquitto (seen: {string.Join(", ", states.Keys)})");
        await Services.WaitAsync(() => Task.FromResult(email.Listeners.TryGetValue("mail", out var listener) && listener.IsConnected), () => "the IMAP listener");
        await Services.WaitAsync(() => Task.FromResult(mqtt.SubscribedChannels.Contains("iot")), () => "the MQTT channel's subscription");
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        if (Broker is not null) await Broker.DisposeAsync();
        await _postgres.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>Where the real services are (the variables, else started from tests/services by the fixtures) and small helpers for them.</summary>
internal static class Services
{
    public const string MailPassword = MailFixture.Password; // start-mail.sh: every user logs in with it

    public static int Port(string name) => name switch
    {
        MosquittoFixture.PortVariable => MosquittoFixture.Port,
        MailFixture.SmtpVariable => MailFixture.SmtpPort,
        MailFixture.ImapVariable => MailFixture.ImapPort,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "MQTT_PORT, SMTP_PORT or IMAP_PORT"),
    };

    /// <summary>A fresh mailbox: Dovecot creates it on first delivery or login.</summary>
    public static string NewMailUser(string prefix) => prefix + Guid.NewGuid().ToString("N")[..12];

    public static string Address(string user) => $"{user}@test.local";

    public static Dictionary<string, string> MailChannel(string user) => new()
    {
        ["imapHost"] = "127.0.0.1", ["imapPort"] = Port("IMAP_PORT").ToString(CultureInfo.InvariantCulture),
        ["smtpHost"] = "127.0.0.1", ["smtpPort"] = Port("SMTP_PORT").ToString(CultureInfo.InvariantCulture),
        ["username"] = user, ["password"] = MailPassword, ["from"] = $"Assistant <{Address(user)}>", ["useTls"] = "none",
    };

    public static async Task WaitAsync(Func<Task<bool>> condition, Func<string> what, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out after {seconds} s waiting for {what()}.{Environment.NewLine}{ServerErrorLog.Latest()}");
            await Task.Delay(100);
        }
    }
}

public sealed class SeedWorkflowChannelTests(ServicesDemoFixture demo) : IClassFixture<ServicesDemoFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // ---- e-mail through Dovecot ----

    private static async Task<MimeMessage> MailAsync(string from, string to, string subject, string text)
    {
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress("Shop owner", Services.Address(from)));
        mail.To.Add(MailboxAddress.Parse(Services.Address(to)));
        mail.Subject = subject;
        mail.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("owner.test");
        mail.Body = new TextPart("plain") { Text = text };
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync("127.0.0.1", Services.Port("SMTP_PORT"), SecureSocketOptions.None, Ct);
        await smtp.SendAsync(mail, Ct);
        await smtp.DisconnectAsync(true, Ct);
        return mail;
    }

    private static async Task<IReadOnlyList<MimeMessage>> InboxAsync(string user)
    {
        using var imap = new ImapClient();
        await imap.ConnectAsync("127.0.0.1", Services.Port("IMAP_PORT"), SecureSocketOptions.None, Ct);
        await imap.AuthenticateAsync(user, Services.MailPassword, Ct);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly, Ct);
        var mails = new List<MimeMessage>();
        for (var i = 0; i < imap.Inbox.Count; i++) mails.Add(await imap.Inbox.GetMessageAsync(i, Ct));
        await imap.DisconnectAsync(true, Ct);
        return mails;
    }

    private async Task<MimeMessage> ReplyByMailAsync(string user)
    {
        IReadOnlyList<MimeMessage> mails = [];
        await Services.WaitAsync(async () => (mails = await InboxAsync(user)).Count > 0,
            () => $"a reply in {user}'s INBOX. Outbox: {demo.Admin.GetStringAsync("/api/messages/outbox?channel=mail&take=5").Result}");
        return Assert.Single(mails);
    }

    [Fact]
    public async Task Should_Answer_In_The_Mail_Thread_With_Todays_Order_Count_When_A_Mail_Asks()
    {
        // Arrange
        var owner = Services.NewMailUser("owner");

        // Act
        var question = await MailAsync(owner, demo.AssistantMailbox, "Orders", "how many orders came in today?");
        var reply = await ReplyByMailAsync(owner);

        // Assert
        Assert.Equal("Re: Orders", reply.Subject);
        Assert.Equal(question.MessageId, reply.InReplyTo);
        Assert.Equal([question.MessageId!], reply.References);
        Assert.Equal(Services.Address(demo.AssistantMailbox), reply.From.Mailboxes.Single().Address);
        Assert.Contains("5 orders came in today", reply.TextBody, StringComparison.Ordinal);
        Assert.Contains("5 orders came in today", reply.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Send_The_Low_Stock_Table_As_An_Html_Table_When_A_Mail_Asks()
    {
        // Arrange
        var owner = Services.NewMailUser("owner");

        // Act
        await MailAsync(owner, demo.AssistantMailbox, "Stock", "which products are running low?");
        var reply = await ReplyByMailAsync(owner);

        // Assert: FormatResult's Markdown table is a real table in the HTML part and a line per product in the text part.
        Assert.Contains("<table", reply.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("<th>product</th>", reply.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("| product |", reply.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("product: ", reply.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("| product |", reply.TextBody, StringComparison.Ordinal);
    }

    // ---- devices on mosquitto ----

    /// <summary>The test's own subscription on mosquitto, recording what arrives.</summary>
    private async Task<(IAsyncDisposable Subscription, ConcurrentQueue<MqttMessage> Received)> WatchAsync(string filter)
    {
        var received = new ConcurrentQueue<MqttMessage>();
        var subscription = await demo.Broker.SubscribeAsync(filter, (m, _) => { received.Enqueue(m); return Task.CompletedTask; });
        return (subscription, received);
    }

    private static bool? IsOn(MqttMessage state) => JsonNode.Parse(state.PayloadText)?["on"]?.GetValue<bool>();

    [Fact]
    public async Task Should_Switch_The_Kitchen_Light_On_Over_Mosquitto_When_Told_In_The_Web_Chat()
    {
        // Arrange: the command and state topics, watched on mosquitto itself.
        var (commands, sent) = await WatchAsync(demo.CommandTopic("kitchen-light"));
        var (states, reported) = await WatchAsync(demo.StateTopic("kitchen-light"));
        await using var _ = commands;
        await using var __ = states;
        await Services.WaitAsync(() => Task.FromResult(!reported.IsEmpty), () => "the kitchen light's retained state");
        Assert.False(IsOn(reported.Last()), "The kitchen light should start off.");
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var reply = await chat.AskAsync("turn on the kitchen light");
        await Services.WaitAsync(() => Task.FromResult(IsOn(reported.Last()) == true), () => "the simulator's new state on mosquitto");
        var api = await demo.Admin.GetJsonAsync("/api/devices/kitchen-light/state");

        // Assert
        Assert.Equal("The kitchen light is on.", reply);
        var command = JsonNode.Parse(Assert.Single(sent).PayloadText)!;
        Assert.Equal("on", command["command"]!.GetValue<string>());
        Assert.Equal("web", command["channel"]!.GetValue<string>());
        Assert.Equal(command["correlationId"]!.GetValue<string>(), JsonNode.Parse(reported.Last().PayloadText)!["correlationId"]!.GetValue<string>());
        Assert.True(api["state"]!["on"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Should_Switch_The_Living_Room_Light_On_And_Reply_On_The_Reply_Topic_When_Told_Over_The_Mqtt_Channel()
    {
        // Arrange
        var (replies, answered) = await WatchAsync(demo.ChatOut("+"));
        var (states, reported) = await WatchAsync(demo.StateTopic("living-room-dimmer"));
        await using var _ = replies;
        await using var __ = states;
        await Services.WaitAsync(() => Task.FromResult(!reported.IsEmpty), () => "the dimmer's retained state");
        Assert.False(IsOn(reported.Last()), "The living room dimmer should start off.");

        // Act
        await demo.Broker.PublishAsync(demo.ChatIn("alice"), "turn on the living room light", MqttQos.AtLeastOnce, retain: false, Ct);
        await Services.WaitAsync(() => Task.FromResult(!answered.IsEmpty), () => "the reply on the reply topic");
        await Services.WaitAsync(() => Task.FromResult(IsOn(reported.Last()) == true), () => "the simulator's new state on mosquitto");

        // Assert
        var reply = Assert.Single(answered);
        Assert.Equal(demo.ChatOut("alice"), reply.Topic);
        var text = JsonNode.Parse(reply.PayloadText)!["text"]!.GetValue<string>();
        Assert.Equal("The living room dimmer is on at 100 %.", text);
        Assert.Equal(100, JsonNode.Parse(reported.Last().PayloadText)!["level"]!.GetValue<double>());
    }

    [Fact]
    public async Task Should_Reply_That_The_Device_Did_Not_Answer_When_It_Never_Acknowledges()
    {
        // Arrange: the hall light is registered, but the simulator leaves it unanswered.
        var (commands, sent) = await WatchAsync(demo.CommandTopic(ServicesDemoFixture.OfflineDevice));
        await using var _ = commands;
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var reply = await chat.AskAsync("turn on the hall light");
        var audit = JsonNode.Parse(await demo.Admin.GetStringAsync("/api/devices/audit?take=50", Ct))!.AsArray();

        // Assert: the command went out, nothing came back, and the reply says so.
        Assert.Equal("on", JsonNode.Parse(Assert.Single(sent).PayloadText)!["command"]!.GetValue<string>());
        Assert.Equal("The hall light did not answer within 5 s. It may be offline.", reply);
        var entry = Assert.Single(audit, e => e!["deviceId"]?.GetValue<string>() == ServicesDemoFixture.OfflineDevice);
        Assert.Equal("Timeout", entry!["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_List_What_Can_Be_Controlled_When_The_Device_Is_Unknown()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var reply = await chat.AskAsync("turn on the garage sprinkler");

        // Assert
        Assert.Equal("I don't know which device you mean. I can control: Bedroom light (bedroom), Front door lock (hall), Hall light (hall), Kitchen light (kitchen), " +
                     "Living room dimmer (living room), Temperature sensor (bedroom), Thermostat (living room).", reply);
    }

    // ---- the demo data source on PostgreSQL ----

    private async Task<long> CountOrdersAsync()
    {
        await using var connection = new NpgsqlConnection(demo.ShopConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM orders", connection);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    [Fact]
    public async Task Should_Count_Todays_Orders_From_PostgreSql_When_The_Demo_Data_Source_Points_There()
    {
        // Arrange
        var source = await demo.Admin.GetJsonAsync("/api/data-sources/demo");
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var reply = await chat.AskAsync("how many orders came in today?");

        // Assert
        Assert.Equal("PostgreSql", source["provider"]!.GetValue<string>());
        Assert.Equal("5 orders came in today, 575.6 in total.", reply);
    }

    [Fact]
    public async Task Should_Select_Only_What_The_Bound_Parameter_Selects_And_Keep_The_Table_When_A_Message_Carries_Sql()
    {
        // Arrange: a workflow on its own web chat channel binds the message text as @status (the assistant answers there too).
        await demo.Admin.SaveAsync(StatusLookupWorkflow(), publish: true);
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, ServicesDemoFixture.LookupChannel);
        await using var assistant = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var paid = await chat.AskAsync("paid", reply => reply.StartsWith("Lookup:", StringComparison.Ordinal));
        var attack = await chat.AskAsync("orders'; DROP TABLE orders; --", reply => reply.StartsWith("Lookup:", StringComparison.Ordinal));
        var quoted = await chat.AskAsync("paid' OR '1'='1", reply => reply.StartsWith("Lookup:", StringComparison.Ordinal));
        var hostileQuestion = await assistant.AskAsync("how many orders came in today?'; DROP TABLE orders; --");

        // Assert
        Assert.Equal("Lookup: 4 orders", paid);
        Assert.Equal("Lookup: 0 orders", attack);
        Assert.Equal("Lookup: 0 orders", quoted);
        Assert.Equal("5 orders came in today, 575.6 in total.", hostileQuestion);
        Assert.Equal(12, await CountOrdersAsync());
    }

    private static JsonObject StatusLookupWorkflow()
    {
        static JsonObject Expression(string typeName, string type, JsonNode value) => new()
        {
            ["typeName"] = typeName, ["expression"] = new JsonObject { ["type"] = type, ["value"] = value },
        };
        var parameters = new JsonObject { ["status"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "getOutput('received', 'Text')" } };
        return Workflows.Sequence(Workflows.UniqueName("order status lookup"), null,
            Workflows.Activity("received", "Platform.MessageReceived", ("channel", Expression("String", "Literal", ServicesDemoFixture.LookupChannel))),
            Workflows.Activity("query", "Platform.QueryDatabase",
                ("dataSource", Expression("String", "Literal", "demo")),
                ("sql", Expression("String", "Literal", "SELECT COUNT(*) AS n FROM orders WHERE status = @status")),
                ("parameters", Expression("Object", "Object", parameters.ToJsonString()))),
            Workflows.Activity("format", "Platform.FormatResult",
                ("rows", Expression("Object", "JavaScript", "getOutput('query', 'Rows')")),
                ("template", Expression("String", "Literal", "Lookup: {{ rows[0].n }} orders"))),
            Workflows.Activity("reply", "Platform.SendReply", ("text", Expression("String", "JavaScript", "getOutput('format', 'Text')"))));
    }
}
