using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>
/// The embedded demo on the default encoder (all-MiniLM-L6-v2 extracted from its NuGet package into the data directory),
/// not on n-grams: one server for the whole class, so the model is extracted and the seed intent set trained with
/// embeddings once. It waits until the model is ready and the set has been trained on it.
/// </summary>
public sealed class MiniLmDemoFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("platform-demo-minilm");

    public PlatformServerFactory Factory { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var settings = PlatformServerFactory.WithKeys(_data.Path);
        settings["Platform:Demo:Enabled"] = "true";
        settings["Platform:Devices:Simulate"] = "true";
        settings["Platform:Mqtt:EmbeddedPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Platform:AI:Embeddings:Model"] = "minilm"; // the default, named so the test says what it runs on
        Factory = new PlatformServerFactory(settings);
        Admin = Factory.CreateClient(PlatformServerFactory.AdminKey);
        Admin.Timeout = TimeSpan.FromMinutes(5); // the first call after the model is ready trains the set on it
        // The model is extracted in the background (the demo has an intent set); until it is ready the set runs on n-grams.
        // Wait for it (bounded, not a speed assertion: extraction and training take seconds on a quiet machine, minutes on a busy one).
        string state = "";
        for (var i = 0; i < 600 && state != "Ready"; i++)
        {
            var test = await Admin.PostJsonAsync("/api/intents/assistant/test", new JsonObject { ["text"] = "turn on the kitchen light" });
            state = test["embeddings"]?.GetValue<string>() ?? "";
            if (state is "Failed" or "Disabled") throw new InvalidOperationException($"The MiniLM model did not load: {test.ToJsonString()}\n{ServerErrorLog.Latest()}");
            if (state != "Ready") await Task.Delay(1000, TestContext.Current.CancellationToken);
        }
        if (state != "Ready") throw new TimeoutException($"The MiniLM model was not ready after 10 minutes (state {state}).\n{ServerErrorLog.Latest()}");
        // This call trains the set on the model's embeddings (the set is trained again once the model is ready).
        await Admin.PostJsonAsync("/api/intents/assistant/test", new JsonObject { ["text"] = "how many orders came in today?" });
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        _data.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The quick-start demo lines (docs/getting-started) over the web chat, recognised with MiniLM embeddings.</summary>
public sealed class SeedAssistantMiniLmTests(MiniLmDemoFixture demo) : IClassFixture<MiniLmDemoFixture>
{
    private const string OutOfScope = "^Sorry, I didn't get that\\.";

    [Theory]
    [InlineData("how many orders came in today?", "^5 orders came in today, 575\\.6 in total\\.$")]
    [InlineData("turn on the kitchen light", "^The kitchen light is on\\.$")]
    [InlineData("what is the temperature in the bedroom?", "^The temperature sensor reads [\\d.]+ °C")]
    [InlineData("打开厨房的灯", "^好的，厨房的灯已打开。$")]
    [InlineData("卧室温度多少", "^温度传感器显示 [\\d.]+ °C")]
    [InlineData("今天有多少订单", "^今天来了 5 个订单，总额 575\\.6。$")]
    [InlineData("关掉卧室的灯", "^好的，卧室的灯已关闭。$")]
    [InlineData("trun on teh bedroom lihgt", "^The bedroom light is on\\.$")]
    [InlineData("set the living room dimmer to 50%", "^The living room dimmer is on at 50 %\\.$")]
    [InlineData("tell me a joke", OutOfScope)]
    [InlineData("book a flight to Paris", OutOfScope)]
    public async Task Should_Answer_The_Quick_Start_Line_When_Intents_Run_On_MiniLm(string line, string expected)
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var reply = await chat.AskAsync(line);
        var test = await demo.Admin.PostJsonAsync("/api/intents/assistant/test", new JsonObject { ["text"] = line });

        // Assert: the reply, and the set really runs on the model.
        Assert.Matches(expected, reply);
        Assert.Equal("Ready", test["embeddings"]?.GetValue<string>());
    }
}
