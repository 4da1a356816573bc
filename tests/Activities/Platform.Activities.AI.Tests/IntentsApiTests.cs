using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Testing;

namespace Platform.Activities.AI.Tests;

/// <summary>/api/intents through the real host (SQLite platform database in a temp data directory).</summary>
public sealed class IntentsApiTests
{
    private const string AdminKey = "ai-tests-admin-key-0123456789abcdef";
    private const string OperatorKey = "ai-tests-operator-key-0123456789abcdef";

    private sealed class Factory(string dataDirectory, string? wordVectors = null) : WebApplicationFactory<Program>
    {
        public HttpClient Client(string key)
        {
            var client = CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key);
            return client;
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Platform:DataDirectory", dataDirectory);
            builder.UseSetting("Platform:Database:Provider", "Sqlite");
            builder.UseSetting("Platform:ApiKeys:0:Key", AdminKey);
            builder.UseSetting("Platform:ApiKeys:0:Name", "ai-admin");
            builder.UseSetting("Platform:ApiKeys:0:Role", "Admin");
            builder.UseSetting("Platform:ApiKeys:1:Key", OperatorKey);
            builder.UseSetting("Platform:ApiKeys:1:Name", "ai-operator");
            builder.UseSetting("Platform:ApiKeys:1:Role", "Operator");
            if (wordVectors is null) builder.UseSetting("Platform:AI:Embeddings:Enabled", "false");
            else builder.UseSetting("Platform:AI:Embeddings:WordVectorsPath", wordVectors);
            builder.ConfigureLogging(l => l.ClearProviders().SetMinimumLevel(LogLevel.Warning));
        }
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    public static JsonObject AssistantJson(string id = "assistant") => new()
    {
        ["id"] = id,
        ["name"] = "Home assistant",
        ["intents"] = new JsonArray(
            Intent("device_on", "turn on the kitchen light", "switch the fan on", "lights on please", "turn the heater on"),
            Intent("device_off", "turn off the kitchen light", "switch the fan off", "lights off please", "turn the heater off"),
            Intent("orders_today", "how many orders came in today", "show me today's orders", "orders today", "what did we sell today")),
        ["entities"] = new JsonArray(
            new JsonObject
            {
                ["name"] = "room", ["kind"] = "list",
                ["values"] = new JsonArray(new JsonObject { ["value"] = "kitchen", ["synonyms"] = new JsonArray("cooking area") }),
            }),
    };

    private static JsonObject Intent(string name, params string[] examples) =>
        new() { ["name"] = name, ["examples"] = new JsonArray(examples.Select(e => (JsonNode)JsonValue.Create(e)!).ToArray()) };

    [Fact]
    public async Task Should_CreateListGetTestAndDelete_When_AnAdminManagesAnIntentSet()
    {
        // Arrange
        using var dir = new TempDirectory("ai-api");
        await using var factory = new Factory(dir.Path);
        var admin = factory.Client(AdminKey);

        // Act
        var created = await ReadAsync(await admin.PostAsJsonAsync("/api/intents", AssistantJson()), HttpStatusCode.Created);
        var list = await ReadAsync(await admin.GetAsync("/api/intents"), HttpStatusCode.OK);
        var test = await ReadAsync(await factory.Client(OperatorKey).PostAsJsonAsync("/api/intents/ASSISTANT/test",
            new { text = "please turn on the light in the cooking area" }), HttpStatusCode.OK);
        var updated = await ReadAsync(await admin.PutAsJsonAsync("/api/intents/assistant", AssistantJson()), HttpStatusCode.OK);
        await ReadAsync(await admin.DeleteAsync("/api/intents/assistant"), HttpStatusCode.NoContent);
        var gone = await admin.GetAsync("/api/intents/assistant");

        // Assert
        Assert.Equal(1, created["version"]!.GetValue<int>());
        Assert.Equal("assistant", Assert.Single(list.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal("device_on", test["intent"]!.GetValue<string>());
        Assert.False(test["outOfScope"]!.GetValue<bool>());
        Assert.Equal(3, test["alternatives"]!.AsArray().Count);
        var room = Assert.Single(test["entities"]!.AsArray(), e => e!["name"]!.GetValue<string>() == "room")!;
        Assert.Equal("kitchen", room["value"]!.GetValue<string>());
        Assert.Equal("Disabled", test["embeddings"]!.GetValue<string>());
        Assert.Equal(2, updated["version"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.False(File.Exists(Path.Combine(dir.Path, "intent-sets.json"))); // kept in the platform database, shared by all nodes
    }

    [Fact]
    public async Task Should_Answer400NamingTheIntent_When_AnIntentHasFewerThanThreeExamples()
    {
        // Arrange
        using var dir = new TempDirectory("ai-api");
        await using var factory = new Factory(dir.Path);
        var body = AssistantJson();
        body["intents"]!.AsArray().Add(Intent("unlock_door", "unlock the door", "open the lock"));

        // Act
        var response = await factory.Client(AdminKey).PostAsJsonAsync("/api/intents", body);
        var problem = await ReadAsync(response, HttpStatusCode.BadRequest);

        // Assert
        Assert.Contains("application/problem+json", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("'unlock_door' has 2", problem["title"]!.GetValue<string>());
        Assert.Contains("at least 3", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_KeepRequiredEntitiesAndTheirQuestions_When_ASetWithSlotsIsSaved()
    {
        // Arrange
        using var dir = new TempDirectory("ai-api");
        await using var factory = new Factory(dir.Path);
        var admin = factory.Client(AdminKey);
        var body = AssistantJson();
        body["intents"]![0]!["required"] = new JsonArray(new JsonObject { ["entity"] = "room", ["prompt"] = " Which room? " }, new JsonObject { ["entity"] = "number" });

        // Act
        await ReadAsync(await admin.PutAsJsonAsync("/api/intents/assistant", body), HttpStatusCode.Created);
        var set = await ReadAsync(await admin.GetAsync("/api/intents/assistant"), HttpStatusCode.OK);
        var descriptors = await ReadAsync(await admin.GetAsync("/elsa/api/descriptors/activities"), HttpStatusCode.OK);

        // Assert
        var required = set["intents"]![0]!["required"]!.AsArray();
        Assert.Equal("room", required[0]!["entity"]!.GetValue<string>());
        Assert.Equal("Which room?", required[0]!["prompt"]!.GetValue<string>());
        Assert.Equal("number", required[1]!["entity"]!.GetValue<string>());
        Assert.Null(required[1]!["prompt"]);
        Assert.Empty(set["intents"]![1]!["required"]!.AsArray());
        var type = Assert.Single(descriptors["items"]!.AsArray(), d => d!["typeName"]!.GetValue<string>() == "Platform.RecognizeIntent.assistant")!;
        Assert.Equal(["device_on", "device_off", "orders_today", "MissingSlot", "OutOfScope"],
            type["ports"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToArray());
    }

    [Theory]
    [InlineData("""{"id":"bad id!","intents":[]}""", "id")]
    [InlineData("""{"id":"s1","intents":[]}""", "no intents")]
    [InlineData("""{"id":"s1","intents":[{"name":"a","examples":["x","y","z"]}],"entities":[{"name":"order","kind":"regex","pattern":"(["}]}""", "invalid pattern")]
    [InlineData("""{"id":"s1","intents":[{"name":"a","examples":["x","y","z"]}],"threshold":3}""", "threshold")]
    [InlineData("""{"id":"s1","intents":[{"name":"OutOfScope","examples":["x","y","z"]}]}""", "reserved")]
    [InlineData("""{"id":"s1","intents":[{"name":"a","examples":["x","y","z"]}],"timeZone":"Mars/Olympus"}""", "time zone")]
    [InlineData("""{"id":"s1","intents":[{"name":"a","examples":["x","y","z"],"required":[{"entity":"room","prompt":"Which room?"}]}]}""", "which the set does not define")]
    [InlineData("""{"id":"s1","intents":[{"name":"MissingSlot","examples":["x","y","z"]}]}""", "reserved")]
    public async Task Should_Answer400WithHowToFix_When_TheSetIsNotValid(string json, string expected)
    {
        // Arrange
        using var dir = new TempDirectory("ai-api");
        await using var factory = new Factory(dir.Path);

        // Act
        var response = await factory.Client(AdminKey).PostAsync("/api/intents", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var problem = await ReadAsync(response, HttpStatusCode.BadRequest);

        // Assert
        Assert.Contains(expected, problem.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Should_RejectOperatorsAndUnknownSets_When_TheyAreNotAllowedOrMissing()
    {
        // Arrange
        using var dir = new TempDirectory("ai-api");
        await using var factory = new Factory(dir.Path);
        var admin = factory.Client(AdminKey);
        await ReadAsync(await admin.PostAsJsonAsync("/api/intents", AssistantJson()), HttpStatusCode.Created);

        // Act
        var asOperator = await factory.Client(OperatorKey).PostAsJsonAsync("/api/intents", AssistantJson("other"));
        var anonymous = await factory.CreateClient().GetAsync("/api/intents");
        var duplicate = await admin.PostAsJsonAsync("/api/intents", AssistantJson());
        var unknown = await admin.PostAsJsonAsync("/api/intents/nope/test", new { text = "hello" });
        var noText = await admin.PostAsJsonAsync("/api/intents/assistant/test", new { text = "" });

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, asOperator.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        await ReadAsync(duplicate, HttpStatusCode.Conflict);
        await ReadAsync(unknown, HttpStatusCode.NotFound);
        await ReadAsync(noText, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Should_ServeOneDescriptorPerSetWithOnePortPerIntent_When_ASetIsSaved()
    {
        // Arrange
        using var dir = new TempDirectory("ai-api");
        await using var factory = new Factory(dir.Path);
        var admin = factory.Client(AdminKey);

        // Act
        await ReadAsync(await admin.PostAsJsonAsync("/api/intents", AssistantJson()), HttpStatusCode.Created);
        var descriptors = await ReadAsync(await admin.GetAsync("/elsa/api/descriptors/activities"), HttpStatusCode.OK);
        await ReadAsync(await admin.DeleteAsync("/api/intents/assistant"), HttpStatusCode.NoContent);
        var after = await ReadAsync(await admin.GetAsync("/elsa/api/descriptors/activities"), HttpStatusCode.OK);

        // Assert
        var items = descriptors["items"]!.AsArray();
        var set = Assert.Single(items, d => d!["typeName"]!.GetValue<string>() == "Platform.RecognizeIntent.assistant")!;
        Assert.Equal(["device_on", "device_off", "orders_today", "OutOfScope"],
            set["ports"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToArray());
        Assert.Equal("AI", set["category"]!.GetValue<string>());
        Assert.Contains(items, d => d!["typeName"]!.GetValue<string>() == "Platform.RecognizeIntent");
        Assert.Contains(items, d => d!["typeName"]!.GetValue<string>() == "Platform.AskModel");
        Assert.DoesNotContain(after["items"]!.AsArray(), d => d!["typeName"]!.GetValue<string>() == "Platform.RecognizeIntent.assistant");
    }

    [Fact]
    public async Task Should_TrainWithEmbeddings_When_TheWordVectorModelIsBuilt()
    {
        // Arrange
        using var dir = new TempDirectory("ai-api");
        var vectors = WordVectors.Write(dir.Path);
        await using var factory = new Factory(dir.CreateSubdirectory("data"), vectors);
        var admin = factory.Client(AdminKey);
        await ReadAsync(await admin.PostAsJsonAsync("/api/intents", AssistantJson()), HttpStatusCode.Created);
        var generator = await factory.Services.GetRequiredService<IntentEmbeddings>().WaitAsync();

        // Act
        var test = await ReadAsync(await admin.PostAsJsonAsync("/api/intents/assistant/test", new { text = "switch off the lamp" }), HttpStatusCode.OK);

        // Assert
        Assert.NotNull(generator);
        Assert.Equal("Ready", test["embeddings"]!.GetValue<string>());
        Assert.Equal("device_off", test["intent"]!.GetValue<string>());
        Assert.True(Directory.Exists(Path.Combine(dir.Path, "data", "models", "glove-100d")));
    }
}

/// <summary>A tiny GloVe-format text file (word v1 … vN, most frequent first) so no test needs the 118 MB tarball.</summary>
internal static class WordVectors
{
    private static readonly string[][] Groups =
    [
        ["the", "a", "please", "in", "of", "me", "my", "we", "did", "what", "how"],
        ["light", "lamp", "lights", "fan", "heater"],
        ["on", "switch", "turn"],
        ["off"],
        ["orders", "order", "sell", "today", "many", "show", "came"],
        ["kitchen", "room", "cooking", "area"],
    ];

    public static string Write(string directory, int dims = 12)
    {
        var rng = new Random(11);
        var lines = new List<string>();
        for (var g = 0; g < Groups.Length; g++)
        {
            foreach (var word in Groups[g])
            {
                var v = Enumerable.Range(0, dims).Select(j => (j == g ? 1.5 : 0) + (rng.NextDouble() - 0.5) * 0.2);
                lines.Add(word + " " + string.Join(' ', v.Select(x => x.ToString("F4", CultureInfo.InvariantCulture))));
            }
        }
        var path = Path.Combine(directory, "vectors.txt");
        File.WriteAllLines(path, lines);
        return path;
    }
}
