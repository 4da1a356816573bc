using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Platform.Server.Tests.Infrastructure;

/// <summary>Calls of the Elsa-compatible API used by many tests.</summary>
public static class ApiClient
{
    /// <summary>The API prefix.</summary>
    public const string Api = "/elsa/api";

    /// <summary>POST /workflow-definitions; asserts 200 and returns <c>workflowDefinition</c>.</summary>
    public static async Task<JsonObject> SaveAsync(this HttpClient client, JsonObject model, bool publish)
    {
        using var response = await client.PostAsJsonAsync($"{Api}/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = publish });
        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        return body["workflowDefinition"]!.AsObject();
    }

    /// <summary>POST execute with <c>{"versionOptions": …}</c>; asserts 200 and returns (instance id header, workflowState).</summary>
    public static async Task<(string InstanceId, JsonObject State)> ExecuteAsync(this HttpClient client, string definitionId, string versionOptions = "Latest")
    {
        using var response = await client.PostAsJsonAsync($"{Api}/workflow-definitions/{definitionId}/execute", new JsonObject { ["versionOptions"] = versionOptions });
        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.True(response.Headers.TryGetValues("x-elsa-workflow-instance-id", out var ids), "The x-elsa-workflow-instance-id header is missing.");
        return (ids.Single(), body["workflowState"]!.AsObject());
    }

    /// <summary>GET; asserts the status and returns the JSON body.</summary>
    public static async Task<JsonObject> GetJsonAsync(this HttpClient client, string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.GetAsync(path);
        return await response.ReadJsonAsync(expected);
    }

    /// <summary>POST a JSON body; asserts the status and returns the JSON body (empty object for no content).</summary>
    public static async Task<JsonObject> PostJsonAsync(this HttpClient client, string path, JsonNode? body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var content = new StringContent(body?.ToJsonString() ?? "", Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(path, content);
        return await response.ReadJsonAsync(expected);
    }

    /// <summary>POST raw text as JSON; returns the response.</summary>
    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Asserts the status (showing the body when it differs) and parses the body as a JSON object.</summary>
    public static async Task<JsonObject> ReadJsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected} but got {(int)response.StatusCode} from {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {text}{((int)response.StatusCode >= 500 ? Environment.NewLine + ServerErrorLog.Latest() : "")}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) as JsonObject ?? new JsonObject { ["value"] = JsonNode.Parse(text) };
    }

    /// <summary>Asserts a ProblemDetails answer with this status, a title and a detail; returns it.</summary>
    public static async Task<JsonObject> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var problem = await response.ReadJsonAsync(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>()), "The problem has no title.");
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()), $"The problem has no detail: {problem}");
        return problem;
    }

    /// <summary>A string property.</summary>
    public static string Str(this JsonNode? node, string key) => node![key]!.GetValue<string>();
}
