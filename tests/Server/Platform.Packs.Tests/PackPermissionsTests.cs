using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Testing.Fakes;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>
/// Permissions enforced: a pack whose activity reaches for hosts, secrets, data sources and MQTT topics, with and without
/// declaring them in pack.json. Refused calls fault the activity with an incident naming the missing permission.
/// </summary>
public sealed class PackPermissionsTests(PackServer server) : IClassFixture<PackServer>
{
    private static string Id() => "Tests.Perm" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>An activity <c>{id}.Reach</c> that does what its Kind input says with its Target input.</summary>
    private static byte[] ReachPack(string id, int port)
    {
        var code = $$"""
            using System;
            using System.Net.Http;
            using System.Text;
            using System.Threading.Tasks;
            using Platform.Activities;
            namespace {{id}};
            [Activity("{{id}}", "Test packs", "Reaches outside.")]
            public class Reach : Activity
            {
                [Input] public Input<string> Kind { get; set; } = new("");
                [Input] public Input<string> Target { get; set; } = new("");
                protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
                {
                    var target = Target.Get(context);
                    string result;
                    switch (Kind.Get(context))
                    {
                        case "http": result = await context.GetRequiredService<HttpClient>().GetStringAsync(target); break;
                        case "factory": result = await context.GetRequiredService<IHttpClientFactory>().CreateClient().GetStringAsync(target); break;
                        case "secret": result = await context.GetRequiredService<IPackSecrets>().GetAsync(target); break;
                        case "data": await using (var c = await context.GetRequiredService<IPackDataSources>().OpenAsync(target)) result = c.State.ToString(); break;
                        case "publish": await context.GetRequiredService<IPackMqtt>().PublishAsync(target, Encoding.UTF8.GetBytes("x")); result = "published"; break;
                        case "subscribe": await (await context.GetRequiredService<IPackMqtt>().SubscribeAsync(target, (t, p, ct) => Task.CompletedTask)).DisposeAsync(); result = "subscribed"; break;
                        default: result = "?"; break;
                    }
                    context.SetWorkflowOutput("result", result);
                    context.Complete("Done");
                }
            }
            """;
        var manifest = TestPacks.Manifest(id, "1.0.0");
        manifest["permissions"] = new JsonObject
        {
            ["network"] = new JsonArray($"127.0.0.1:{port}"), ["secrets"] = new JsonArray("weather-key"),
            ["dataSources"] = new JsonArray("weather-db"), ["mqtt"] = new JsonArray("acme/weather/#"),
        };
        return TestPacks.Package(id, "1.0.0", new Dictionary<string, byte[]> { [id] = TestPacks.Compile(id, code, TestPacks.Sdk, TestPacks.Http) }, manifest);
    }

    private async Task<RunWorkflowResult> RunAsync(string type, string kind, string target)
    {
        var definitionId = await server.Admin.PublishAsync(type, new JsonObject { ["kind"] = PackHttp.Literal(kind), ["target"] = PackHttp.Literal(target) });
        return await server.Factory.Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest(definitionId));
    }

    [Fact]
    public async Task Should_Fault_With_An_Incident_Naming_The_Permission_When_A_Pack_Reaches_Undeclared_Things()
    {
        // Arrange
        var id = Id();
        await using var api = await LoopbackReceiver.StartAsync(_ => Task.FromResult(new FakeResponse(200, "sunny", "text/plain")));
        await (await server.Admin.UploadAsync(ReachPack(id, api.BaseUrl.Port))).JsonAsync(HttpStatusCode.Created);
        var type = $"{id}.Reach";

        // Act: each attempt names something pack.json does not declare
        var attempts = new (string Kind, string Target, string Permission, string Value)[]
        {
            ("http", $"http://localhost:{api.BaseUrl.Port}/weather", "network", $"localhost:{api.BaseUrl.Port}"),
            ("factory", "http://example.invalid/weather", "network", "example.invalid"),
            ("secret", "bank-password", "secrets", "bank-password"),
            ("data", "payroll", "dataSources", "payroll"),
            ("publish", "devices/lamp/set", "mqtt", "devices/lamp/set"),
            ("subscribe", "#", "mqtt", "#"),
        };
        var results = new List<(string Kind, string Permission, string Value, RunWorkflowResult Result)>();
        foreach (var (kind, target, permission, value) in attempts) results.Add((kind, permission, value, await RunAsync(type, kind, target)));

        // Assert
        foreach (var (kind, permission, value, result) in results)
        {
            Assert.True(result.SubStatus == WorkflowSubStatus.Faulted, $"{kind}: expected a fault but got {result.SubStatus}");
            var incident = Assert.Single(result.Instance.State.Incidents);
            Assert.Contains($"The pack '{id}' may not", incident.Message);
            Assert.Contains($"Add \"{value}\" to permissions.{permission} in pack.json", incident.Message);
        }
        Assert.Empty(api.Requests);
    }

    [Fact]
    public async Task Should_Reach_Declared_Hosts_And_Secrets_When_The_Pack_Declares_Them()
    {
        // Arrange
        var id = Id();
        await using var api = await LoopbackReceiver.StartAsync(_ => Task.FromResult(new FakeResponse(200, "sunny", "text/plain")));
        await (await server.Admin.UploadAsync(ReachPack(id, api.BaseUrl.Port))).JsonAsync(HttpStatusCode.Created);
        var type = $"{id}.Reach";

        // Act
        var http = await RunAsync(type, "http", new Uri(api.BaseUrl, "weather").ToString());
        var secret = await RunAsync(type, "secret", "weather-key");

        // Assert
        Assert.True(http.SubStatus == WorkflowSubStatus.Finished, JsonSerializer.Serialize(http.Instance.State.Incidents));
        Assert.Equal("sunny", http.Instance.State.Output["result"]?.ToString());
        Assert.True(secret.SubStatus == WorkflowSubStatus.Finished, JsonSerializer.Serialize(secret.Instance.State.Incidents));
        Assert.Equal(PackServer.WeatherSecret, secret.Instance.State.Output["result"]?.ToString());
        Assert.Single(api.Requests);
    }

    [Theory]
    [InlineData("acme/weather/#", "acme/weather/oslo", true)]
    [InlineData("acme/weather/#", "acme/weather/+/now", true)]
    [InlineData("acme/+/now", "acme/oslo/now", true)]
    [InlineData("acme/+/now", "acme/+/now", true)]
    [InlineData("acme/weather/#", "acme/#", false)]
    [InlineData("acme/+/now", "acme/#", false)]
    [InlineData("acme/+/now", "acme/oslo/later", false)]
    [InlineData("acme/weather", "acme/weather/oslo", false)]
    public void Should_Allow_Only_Covered_Topics_When_Mqtt_Patterns_Are_Declared(string pattern, string topic, bool allowed) =>
        Assert.Equal(allowed, PackServiceGate.Covers(pattern, topic));
}
