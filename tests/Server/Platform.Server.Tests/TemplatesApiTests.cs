using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities.Data;
using Platform.Messaging.Mqtt;
using Platform.Mqtt;
using Platform.Server.Demo;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;

namespace Platform.Server.Tests;

/// <summary>
/// A server without the demo (so no seed assistant answers every channel) that has what the templates need: the demo shop as
/// data source <c>demo</c> (SQLite), a web chat channel <c>faq</c>, an Mqtt channel <c>alarms</c> on mosquitto (MQTT_PORT) subscribed
/// to this fixture's own device state topics, and fake Slack and Telegram channels.
/// </summary>
public sealed class TemplatesServerFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("platform-templates");

    public PlatformServerFactory Factory { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public FakeTelegramServer Telegram { get; private set; } = null!;
    public FakeSlackServer Slack { get; private set; } = null!;
    public MqttConnection Broker { get; private set; } = null!;

    /// <summary>The start of every topic this server uses.</summary>
    public string Prefix { get; } = "test/templates-" + Guid.NewGuid().ToString("N")[..12];

    public async ValueTask InitializeAsync()
    {
        var mqttPort = Services.Port("MQTT_PORT");
        Telegram = await FakeTelegramServer.StartAsync();
        Slack = await FakeSlackServer.StartAsync();
        Broker = new MqttConnection(new MqttOptions { Host = "127.0.0.1", Port = mqttPort, Embedded = false, ClientIdPrefix = "templates-test" });

        var shop = Path.Combine(_data.Path, "shop.db");
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = shop, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString()))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = DemoShop.Sql(DateTimeOffset.UtcNow, DataSourceProviderKind.Sqlite);
            await command.ExecuteNonQueryAsync();
        }

        var settings = PlatformServerFactory.WithKeys(_data.Path);
        settings["Platform:AI:Embeddings:Enabled"] = "false"; // n-grams only: fast and deterministic for these sentences
        settings["Platform:Mqtt:Host"] = "127.0.0.1";
        settings["Platform:Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture);
        settings["Platform:Channels:faq:kind"] = "WebChat";
        settings["Platform:Channels:alarms:kind"] = "Mqtt";
        settings["Platform:Channels:alarms:topics"] = $"{Prefix}/devices/+/state";
        settings["Platform:Channels:alarms:replyTopic"] = $"{Prefix}/alarms/{{wildcard}}";
        Factory = new PlatformServerFactory(settings);
        Admin = Factory.CreateClient(PlatformServerFactory.AdminKey);
        await Admin.PostJsonAsync("/api/data-sources", new JsonObject
        {
            ["name"] = "demo", ["provider"] = "Sqlite", ["connectionString"] = $"Data Source={shop}",
        }, HttpStatusCode.Created);
        await Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = "telegram", ["kind"] = "Telegram",
            ["settings"] = new JsonObject { ["botToken"] = Telegram.BotToken, ["webhookSecretToken"] = "templates-secret", ["apiBaseUrl"] = Telegram.BaseUrl.ToString() },
        }, HttpStatusCode.Created);
        await Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = "slack", ["kind"] = "Slack",
            ["settings"] = new JsonObject { ["botToken"] = Slack.BotToken, ["signingSecret"] = Slack.SigningSecret, ["apiBaseUrl"] = Slack.ApiBaseUrl.ToString() },
        }, HttpStatusCode.Created);
        var mqtt = Factory.Services.GetRequiredService<MqttListenerService>();
        await Services.WaitAsync(() => Task.FromResult(mqtt.SubscribedChannels.Contains("alarms")), () => "the alarms channel's subscription");
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        if (Broker is not null) await Broker.DisposeAsync();
        if (Telegram is not null) await Telegram.DisposeAsync();
        if (Slack is not null) await Slack.DisposeAsync();
        _data.Dispose();
    }
}

public sealed class TemplatesApiTests(TemplatesServerFixture server) : IClassFixture<TemplatesServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> InstantiateAndPublishAsync(string templateId)
    {
        var created = await server.Admin.PostJsonAsync($"/api/templates/{templateId}/instantiate", new JsonObject { ["name"] = "My " + templateId }, HttpStatusCode.Created);
        var definitionId = created["definitionId"]!.GetValue<string>();
        await server.Admin.PostJsonAsync($"/elsa/api/workflow-definitions/{definitionId}/publish", null);
        return definitionId;
    }

    private static async Task WaitForAsync(Func<bool> done, Func<string> what)
    {
        for (var i = 0; i < 300 && !done(); i++) await Task.Delay(50, Ct);
        Assert.True(done(), $"Timed out waiting for {what()}\n{ServerErrorLog.Latest()}");
    }

    [Fact]
    public async Task Should_List_The_Four_Templates_With_Names_And_Descriptions_When_Asked()
    {
        var list = JsonNode.Parse(await server.Admin.GetStringAsync("/api/templates", Ct))!.AsArray();

        Assert.Equal(["assistant", "faq-bot", "daily-report", "device-alarm"], list.Select(t => t!["id"]!.GetValue<string>()));
        Assert.All(list, t => Assert.False(string.IsNullOrWhiteSpace(t!["name"]!.GetValue<string>())));
        Assert.All(list, t => Assert.False(string.IsNullOrWhiteSpace(t!["description"]!.GetValue<string>())));
    }

    [Fact]
    public async Task Should_Answer_404_When_The_Template_Does_Not_Exist()
    {
        var problem = await server.Admin.PostJsonAsync("/api/templates/no-such-template/instantiate", new JsonObject(), HttpStatusCode.NotFound);

        Assert.Contains("GET /api/templates", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_Answer_400_When_The_Body_Is_Not_Json()
    {
        using var content = new StringContent("name=oops", Encoding.UTF8, "text/plain");

        using var response = await server.Admin.PostAsync("/api/templates/faq-bot/instantiate", content, Ct);
        var problem = await response.ReadJsonAsync(HttpStatusCode.BadRequest);

        Assert.Contains("{\"name\"", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_Refuse_To_Instantiate_When_The_Key_Cannot_Write()
    {
        using var reader = server.Factory.CreateClient(PlatformServerFactory.OperatorKey);

        using var response = await reader.PostAsJsonAsync("/api/templates/faq-bot/instantiate", new JsonObject(), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("assistant", "recognise intent")]
    [InlineData("faq-bot", "recognise the question")]
    [InlineData("daily-report", "orders today")]
    [InlineData("device-alarm", "above 30 °c?")]
    public async Task Should_Create_A_Draft_With_A_Fresh_Id_And_The_Given_Name_When_A_Template_Is_Used(string templateId, string activityName)
    {
        var created = await server.Admin.PostJsonAsync($"/api/templates/{templateId}/instantiate", new JsonObject { ["name"] = "Draft of " + templateId }, HttpStatusCode.Created);
        var definitionId = created["definitionId"]!.GetValue<string>();
        var definition = await server.Admin.GetJsonAsync($"/elsa/api/workflow-definitions/by-definition-id/{definitionId}?versionOptions=Latest");

        Assert.NotEqual(templateId, definitionId);
        Assert.StartsWith(templateId + "-", definitionId);
        Assert.Equal("Draft of " + templateId, definition["name"]!.GetValue<string>());
        Assert.False(definition["isPublished"]!.GetValue<bool>());
        Assert.Contains(definition["root"]!["activities"]!.AsArray(), a => string.Equals(a!["name"]?.GetValue<string>(), activityName, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Should_Give_The_Canned_Answer_When_The_Published_Faq_Bot_Is_Asked_A_Frequent_Question()
    {
        await InstantiateAndPublishAsync("faq-bot");
        await using var chat = await WebChatClient.ConnectAsync(server.Factory, "faq");

        var hours = await chat.AskAsync("when are you open?");
        var returns = await chat.AskAsync("how do I return an item?");
        var other = await chat.AskAsync("tell me a joke");

        Assert.Equal("We are open Monday to Friday 9:00-18:00 and Saturday 10:00-14:00.", hours);
        Assert.StartsWith("You can return any item within 30 days", returns);
        Assert.StartsWith("Sorry, I can only answer questions about", other);
    }

    [Fact]
    public async Task Should_Post_Todays_Orders_To_Slack_When_The_Published_Daily_Report_Runs()
    {
        var definitionId = await InstantiateAndPublishAsync("daily-report");

        using var run = await server.Admin.PostAsJsonAsync($"/elsa/api/workflow-definitions/{definitionId}/execute", new JsonObject { ["versionOptions"] = "Published" }, Ct);
        run.EnsureSuccessStatusCode();
        await WaitForAsync(() => server.Slack.PostedMessages.Any(m => m.Channel == "#reports"), () => "the report on Slack");

        var post = server.Slack.PostedMessages.First(m => m.Channel == "#reports");
        Assert.Contains("paid", post.Text);
    }

    [Fact]
    public async Task Should_Notify_Slack_And_Telegram_When_A_Device_Reports_A_Temperature_Above_30()
    {
        await InstantiateAndPublishAsync("device-alarm");

        await server.Broker.PublishAsync($"{server.Prefix}/devices/cellar-sensor/state", Encoding.UTF8.GetBytes("{\"temperature\": 21.5}"), ct: Ct);
        await server.Broker.PublishAsync($"{server.Prefix}/devices/server-room-sensor/state", Encoding.UTF8.GetBytes("{\"temperature\": 35.5}"), ct: Ct);
        await WaitForAsync(() => server.Slack.PostedMessages.Any(m => m.Channel == "#alarms") && server.Telegram.SentMessages.Any(m => m.ChatId == "123456789"),
            () => "the alarm on Slack and Telegram");

        var slack = Assert.Single(server.Slack.PostedMessages, m => m.Channel == "#alarms");
        var telegram = Assert.Single(server.Telegram.SentMessages, m => m.ChatId == "123456789");
        Assert.Contains("35.5", slack.Text);
        Assert.Contains("35.5", telegram.PlainText);
    }
}
