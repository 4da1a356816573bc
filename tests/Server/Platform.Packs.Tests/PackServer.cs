using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Platform.Testing;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>One server (SQLite in a temporary data directory) shared by a test class; each test installs its own packs.</summary>
public sealed class PackServer : IAsyncLifetime
{
    public const string AdminKey = "packs-admin-key-0123456789abcdef";
    public const string OperatorKey = "packs-operator-key-0123456789abcdef";
    /// <summary>The value of the pack secret <c>weather-key</c> (Platform:Packs:Secrets:weather-key).</summary>
    public const string WeatherSecret = "weather-secret-value";
    private readonly TempDirectory _data = new("platform-packs-test");
    private readonly IReadOnlyDictionary<string, string> _settings;

    public PackServer() : this(new Dictionary<string, string>())
    {
    }

    /// <summary>A server with more settings (e.g. Platform:Packs:TrustedCertificateFingerprints:0), for fixtures that wrap it.</summary>
    internal PackServer(IReadOnlyDictionary<string, string> settings) => _settings = settings;

    public WebApplicationFactory<Program> Factory { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public HttpClient Operator { get; private set; } = null!;
    public string DataDirectory => _data.Path;

    public ValueTask InitializeAsync()
    {
        Factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Platform:DataDirectory", _data.Path);
            b.UseSetting("Platform:Mqtt:EmbeddedPort", "0");
            b.UseSetting("Platform:Engine:WarmUp", "false");
            b.UseSetting("Platform:ConfigurationRefreshInterval", "0.2");
            b.UseSetting("Platform:ApiKeys:0:Key", AdminKey);
            b.UseSetting("Platform:ApiKeys:0:Name", "packs-admin");
            b.UseSetting("Platform:ApiKeys:0:Role", "Admin");
            b.UseSetting("Platform:ApiKeys:1:Key", OperatorKey);
            b.UseSetting("Platform:ApiKeys:1:Name", "packs-operator");
            b.UseSetting("Platform:ApiKeys:1:Role", "Operator");
            b.UseSetting("Platform:Packs:Secrets:weather-key", WeatherSecret);
            foreach (var (key, value) in _settings) b.UseSetting(key, value);
            b.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        });
        Admin = Client(AdminKey);
        Operator = Client(OperatorKey);
        return ValueTask.CompletedTask;
    }

    public HttpClient Client(string key)
    {
        var c = Factory.CreateClient();
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key);
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        Operator?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>HTTP helpers of the pack tests.</summary>
public static class PackHttp
{
    public static async Task<HttpResponseMessage> UploadAsync(this HttpClient client, byte[] bytes, string fileName = "pack.nupkg", string field = "file")
    {
        using var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, field, fileName);
        return await client.PostAsync("/api/packs", form);
    }

    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected} but got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) as JsonObject ?? new JsonObject { ["value"] = JsonNode.Parse(text) };
    }

    public static async Task<JsonObject> ProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var problem = await response.JsonAsync(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()), $"The problem has no detail: {problem}");
        return problem;
    }

    /// <summary>The installed activity types in the descriptors API (the Studio's palette).</summary>
    public static async Task<List<string>> ActivityTypesAsync(this HttpClient client)
    {
        var body = await (await client.GetAsync("/elsa/api/descriptors/activities")).JsonAsync(HttpStatusCode.OK);
        // Types used by saved workflows but not installed come back as "(not installed)" placeholders: leave those out.
        return body["items"]!.AsArray().Where(i => i!["category"]?.GetValue<string>() != "Not installed")
            .Select(i => i!["typeName"]!.GetValue<string>()).ToList();
    }

    /// <summary>Saves and publishes a one-activity flowchart; returns the definition id.</summary>
    public static async Task<string> PublishAsync(this HttpClient client, string activityType, JsonObject? inputs = null, int typeVersion = 1)
    {
        var activity = new JsonObject { ["id"] = "a1", ["type"] = activityType, ["version"] = typeVersion, ["name"] = "a1" };
        foreach (var (k, v) in inputs ?? []) activity[k] = v?.DeepClone();
        var model = new JsonObject
        {
            ["name"] = "pack test " + activityType,
            ["root"] = new JsonObject { ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["activities"] = new JsonArray(activity), ["connections"] = new JsonArray() },
        };
        var response = await client.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true });
        var body = await response.JsonAsync(HttpStatusCode.OK);
        return body["workflowDefinition"]!["definitionId"]!.GetValue<string>();
    }

    public static JsonObject Literal(string value) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value },
    };
}
