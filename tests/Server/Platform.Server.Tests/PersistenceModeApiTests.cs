using System.Net;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using static Platform.Server.Tests.Infrastructure.ApiClient;

namespace Platform.Server.Tests;

/// <summary>
/// Persistence per workflow through the real host: an HTTP workflow keeps no instance by default (OnFaultOnly), one that
/// sets <c>options.commitStrategyName</c> = Full does; the Studio's commit strategy list offers the three modes.
/// </summary>
public abstract class PersistenceModeApiTests(ServerFixture server)
{
    private HttpClient Admin => server.Admin;

    private static JsonObject HelloHttp(string path, string? mode)
    {
        var model = JsonNode.Parse(File.ReadAllText(TestPaths.InRepo("workflows", "hello-http.json")))!.AsObject();
        model["definitionId"] = path;
        model["name"] = "Persistence " + path;
        if (mode is not null) model["options"]!["commitStrategyName"] = mode;
        foreach (var a in model["root"]!["activities"]!.AsArray())
            if (a!["type"]!.GetValue<string>() == "Elsa.HttpEndpoint") a["path"]!["expression"]!["value"] = path;
        return model;
    }

    private async Task<HttpStatusCode> CallAndLookUpAsync(string path)
    {
        using var anonymous = server.Factory.CreateClient(apiKey: null);
        using var response = await anonymous.GetAsync($"/http/{path}?name=Ada");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Hello, Ada!", await response.Content.ReadAsStringAsync());
        var instanceId = response.Headers.GetValues("x-elsa-workflow-instance-id").Single();
        using var lookup = await Admin.GetAsync($"{Api}/workflow-instances/{instanceId}");
        return lookup.StatusCode;
    }

    [Fact]
    public async Task Should_Keep_No_Instance_When_Http_Workflow_Sets_No_Persistence()
    {
        var path = "pm-default-" + Guid.NewGuid().ToString("N")[..8];
        await Admin.SaveAsync(HelloHttp(path, null), publish: true);

        Assert.Equal(HttpStatusCode.NotFound, await CallAndLookUpAsync(path));
    }

    [Fact]
    public async Task Should_Keep_The_Instance_When_Http_Workflow_Sets_Persistence_Full()
    {
        var path = "pm-full-" + Guid.NewGuid().ToString("N")[..8];
        await Admin.SaveAsync(HelloHttp(path, "Full"), publish: true);

        Assert.Equal(HttpStatusCode.OK, await CallAndLookUpAsync(path));
    }

    [Fact]
    public async Task Should_Offer_The_Three_Modes_When_The_Studio_Lists_Commit_Strategies()
    {
        var list = await Admin.GetJsonAsync($"{Api}/descriptors/commit-strategies/workflows");

        Assert.Equal(["Full", "OnFaultOnly", "None"], list["items"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()).ToArray());
    }
}

/// <summary>On SQLite.</summary>
public sealed class SqlitePersistenceModeApiTests(SqliteServerFixture server) : PersistenceModeApiTests(server), IClassFixture<SqliteServerFixture>;

/// <summary>On PostgreSQL.</summary>
public sealed class PostgresPersistenceModeApiTests(PostgresServerFixture server) : PersistenceModeApiTests(server), IClassFixture<PostgresServerFixture>;
