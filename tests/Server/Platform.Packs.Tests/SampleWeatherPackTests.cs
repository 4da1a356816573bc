using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Platform.Testing;
using Platform.Testing.Fakes;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>
/// The sample pack <c>samples/Acme.Weather</c> built with <c>dotnet pack</c> (version 1, then version 2 with a changed reply)
/// against this repository's SDK packed into a local feed: by <see cref="PackBuilds"/>, so once per run at most, and not at all
/// when an earlier run packed the same sources.
/// </summary>
public sealed class SampleWeatherPackBuild : IAsyncLifetime
{
    /// <summary>Acme.Weather 1.0.0.</summary>
    public byte[] V1 { get; private set; } = [];

    /// <summary>Acme.Weather 2.0.0 (its reply reads "{city} now: …").</summary>
    public byte[] V2 { get; private set; } = [];

    /// <summary>The build (whether this run packed it, and how long that took).</summary>
    public PackBuilds.Build Build { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Build = await PackBuilds.SampleWeatherAsync();
        V1 = await File.ReadAllBytesAsync(Build.File("Acme.Weather.1.0.0.nupkg"));
        V2 = await File.ReadAllBytesAsync(Build.File("Acme.Weather.2.0.0.nupkg"));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// The sample pack end to end: installed over POST /api/packs, used in a published workflow driven over the web chat (ask for
/// the weather, get the reply from a loopback fake weather service), upgraded to version 2 (a changed reply), and removed.
/// </summary>
public sealed class SampleWeatherPackTests(PackServer server, SampleWeatherPackBuild build) : IClassFixture<PackServer>, IClassFixture<SampleWeatherPackBuild>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Js(string script) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script },
    };

    private static JsonObject Node(string id, string type, params (string Key, JsonNode Value)[] inputs)
    {
        var node = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1, ["name"] = id };
        foreach (var (k, v) in inputs) node[k] = v;
        return node;
    }

    private static JsonObject Connect(string source, string target, string port) => new()
    {
        ["source"] = new JsonObject { ["activity"] = source, ["port"] = port },
        ["target"] = new JsonObject { ["activity"] = target, ["port"] = "In" },
        ["vertices"] = new JsonArray(),
    };

    [Fact]
    public async Task Should_Answer_Over_The_Web_Chat_When_The_Sample_Pack_Is_Installed_Upgraded_And_Removed()
    {
        // Arrange: the fake weather service, a web chat channel, the pack and a workflow: message → Get Weather → reply.
        TestContext.Current.TestOutputHelper?.WriteLine(build.Build.Built ? $"dotnet pack of the sample v1 and v2: {build.Build.Elapsed.TotalSeconds:F0} s"
            : $"the sample v1 and v2 of an earlier run with the same sources: {build.Build.Directory}");
        await using var weather = await LoopbackReceiver.StartAsync(r => Task.FromResult(r.Path == "/v1/current" && r.Query.Contains("city=Oslo", StringComparison.Ordinal)
            ? new FakeResponse(200, """{"city":"Oslo","condition":"sunny","celsius":3}""")
            : new FakeResponse(404, """{"error":"unknown city"}""")));
        var channel = "weather-" + Guid.NewGuid().ToString("N")[..8];
        using var created = await server.Admin.PostAsync("/api/channels", JsonContent(new JsonObject { ["name"] = channel, ["kind"] = "WebChat", ["settings"] = new JsonObject() }));
        await created.JsonAsync(HttpStatusCode.Created);
        var installed = await (await server.Admin.UploadAsync(build.V1, "Acme.Weather.1.0.0.nupkg")).JsonAsync(HttpStatusCode.Created);
        var model = new JsonObject
        {
            ["name"] = "weather chat " + channel,
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(
                    Node("received", "Platform.MessageReceived", ("channel", PackHttp.Literal(channel))),
                    Node("weather", "Acme.Weather.GetWeather",
                        ("city", Js("getInput('text').replace(/^.*weather in\\s*/i, '').replace(/[?.!]+$/, '').trim()")),
                        ("serviceUrl", PackHttp.Literal(weather.BaseUrl.ToString()))),
                    Node("reply", "Platform.SendReply", ("text", Js("getOutput('weather', 'Reply')"))),
                    Node("sorry", "Platform.SendReply", ("text", Js("getOutput('weather', 'Reply')")))),
                ["connections"] = new JsonArray(Connect("received", "weather", "Done"), Connect("weather", "reply", "Done"), Connect("weather", "sorry", "Unknown city")),
            },
        };
        using var published = await server.Admin.PostAsync("/elsa/api/workflow-definitions", JsonContent(new JsonObject { ["model"] = model, ["publish"] = true }));
        await published.JsonAsync(HttpStatusCode.OK);

        // Act
        await using var chat = await ChatAsync(channel);
        var first = await chat.AskAsync("What is the weather in Oslo?");
        var unknown = await chat.AskAsync("weather in Atlantis");
        var upgraded = await (await server.Admin.UploadAsync(build.V2, "Acme.Weather.2.0.0.nupkg")).JsonAsync(HttpStatusCode.OK);
        var second = await chat.AskAsync("What is the weather in Oslo?");
        using var removed = await server.Admin.DeleteAsync("/api/packs/Acme.Weather");
        var palette = await server.Admin.ActivityTypesAsync();

        // Assert
        Assert.Equal("Acme Weather", installed["displayName"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", installed["permissions"]!["network"]![1]!.GetValue<string>());
        Assert.Equal("The weather in Oslo: sunny, 3 °C.", first);
        Assert.Equal("I do not know the weather in Atlantis.", unknown);
        Assert.Equal("2.0.0", upgraded["version"]!.GetValue<string>());
        Assert.Equal("Oslo now: sunny, 3 °C.", second);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.DoesNotContain("Acme.Weather.GetWeather", palette);
        Assert.Equal(3, weather.Requests.Count);
    }

    private static StringContent JsonContent(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private async Task<Chat> ChatAsync(string channel)
    {
        var socket = await server.Factory.Server.CreateWebSocketClient().ConnectAsync(new Uri($"ws://localhost/ws/chat?channel={channel}"), Ct);
        var chat = new Chat(socket);
        await chat.NextAsync("welcome");
        return chat;
    }

    private sealed class Chat(WebSocket socket) : IAsyncDisposable
    {
        private int _id;

        public async Task<string> AskAsync(string text)
        {
            var frame = new JsonObject { ["type"] = "message", ["id"] = $"m{++_id}", ["text"] = text };
            await socket.SendAsync(Encoding.UTF8.GetBytes(frame.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, Ct);
            return (await NextAsync("message"))["text"]!.GetValue<string>();
        }

        public async Task<JsonObject> NextAsync(string type)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var buffer = new byte[64 * 1024];
            while (true)
            {
                using var text = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, timeout.Token);
                    if (result.MessageType == WebSocketMessageType.Close) Assert.Fail("The server closed the chat socket.");
                    text.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);
                var frame = JsonNode.Parse(Encoding.UTF8.GetString(text.ToArray()))!.AsObject();
                if (frame["type"]?.GetValue<string>() == type) return frame;
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (socket.State == WebSocketState.Open)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
            socket.Dispose();
        }
    }
}
